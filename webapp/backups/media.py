"""The media's part of a backup: every file of the media storage (photos, thumbnails, heatmaps, model
files), copied out and back through Django's storage API, so a remote storage (S3) is backed up the same
way as the local folder. Each file is listed with its size and sha256, checked on the way back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import Storage

CHUNK = 1 << 20


class MediaBackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class StoredFile:
    name: str  # the storage name, as rows hold it
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return asdict(self)


def storage_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name in ``storage``, folder by folder (none when the media folder does not exist yet)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from storage_names(storage, f"{folder}/{sub}" if folder else sub)


def copy_out(storage: Storage, target: Path) -> list[StoredFile]:
    """Copy every file of ``storage`` under ``target``, keeping its name."""
    copied = []
    for name in storage_names(storage):
        destination = local_path(target, name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with storage.open(name, "rb") as source, open(destination, "wb") as out:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        copied.append(StoredFile(name, size, digest.hexdigest()))
    return copied


def check_copies(source: Path, files: list[StoredFile]) -> None:
    """Every listed file is in the backup with its size and sha256 (before anything is restored)."""
    for entry in files:
        path = local_path(source, entry.name)
        if not path.is_file():
            raise MediaBackupError(f"{entry.name} is missing from the backup")
        if file_sha256(path) != entry.sha256:
            raise MediaBackupError(f"{entry.name} in the backup is not the file backed up (its sha256 differs)")


def conflicts(storage: Storage, files: list[StoredFile]) -> list[str]:
    """Files the storage already holds with other content (a restore would not overwrite them)."""
    return [
        entry.name
        for entry in files
        if storage.exists(entry.name) and stored_sha256(storage, entry.name) != entry.sha256
    ]


def copy_in(storage: Storage, source: Path, files: list[StoredFile]) -> int:
    """Put each file back under its name and check it as stored; the count written (the rest were there)."""
    written = 0
    for entry in files:
        if not storage.exists(entry.name):
            with open(local_path(source, entry.name), "rb") as content:
                saved = storage.save(entry.name, File(content, name=entry.name))
            if saved != entry.name:
                raise MediaBackupError(f"the storage saved {entry.name} as {saved}")
            written += 1
        if stored_sha256(storage, entry.name) != entry.sha256:
            raise MediaBackupError(f"{entry.name} as stored is not the file backed up (its sha256 differs)")
    return written


def stored_sha256(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as stored:
        for chunk in iter(lambda: stored.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_path(root: Path, name: str) -> Path:
    """Where the file ``name`` lies in a backup; a name that would leave it (``..``, absolute) is refused."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise MediaBackupError(f"refusing the media name {name!r}")
    return root.joinpath(*relative.parts)
