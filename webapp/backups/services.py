"""Backing up the site into a folder and restoring it from one (``manage.py backup`` / ``restore``).

A backup folder holds the database's copy (``webapp.backups.database``), the media files under ``media/``
(``webapp.backups.media``), and ``manifest.json``, written last, so a folder without it is no backup:

    {"format": 1, "created_at": ..., "database": {"vendor", "file", "size", "sha256", "tables": {table: rows}},
     "media": {"storage": backend, "files": [{"name", "size", "sha256"}]}, "missing_media": [names]}

The database is copied first, then the media: a photo uploaded meanwhile is copied without its row
(harmless); a file the copied rows name that was gone by then is listed in ``missing_media``.

A restore checks the whole backup before it changes anything, loads the database into an empty one, puts
the files back, and checks that every table has the rows and every file the content the manifest says.
Not in a backup: the secret key (``var/secret_key`` or ``SECRET_KEY``), settings and environment, Redis
(queued tasks: pending cases are enqueued again by the sweeper), the collected static files, the model
cache and retraining's work folder (both made again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from webapp.backups import database, media

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_FOLDER = "media"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, or whose result is not what the manifest says."""


@dataclass(frozen=True)
class Summary:
    tables: int
    rows: int
    files: int
    bytes: int
    missing_media: list[str]


def backup_site(directory: Path | str, using: str = "default") -> Summary:
    """Back the database and the media up into ``directory`` (new, or empty)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    try:
        dump_name = database.dump_file_name(connection)
        tables, referenced = database.dump(connection, directory / dump_name)
        files = media.copy_out(default_storage, directory / MEDIA_FOLDER)
    except (database.DatabaseBackupError, media.MediaBackupError) as error:
        raise BackupError(str(error)) from error
    copied = {entry.name for entry in files}
    missing = [name for name in referenced if name not in copied]
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {
            "vendor": connection.vendor,
            "file": dump_name,
            "size": (directory / dump_name).stat().st_size,
            "sha256": media.file_sha256(directory / dump_name),
            "tables": tables,
        },
        "media": {
            "storage": settings.STORAGES["default"]["BACKEND"],
            "files": [entry.as_dict() for entry in files],
        },
        "missing_media": missing,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return _summary(manifest)


def read_manifest(directory: Path | str) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} is missing: not a backup, or one that did not finish")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r}, this release reads {FORMAT}")
    return manifest


def restore_site(directory: Path | str, using: str = "default") -> Summary:
    """Restore the backup in ``directory`` into an empty database and the media storage, and verify both."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    connection = connections[using]
    saved = manifest["database"]
    files = [media.StoredFile(**entry) for entry in manifest["media"]["files"]]
    # Everything is checked before anything changes.
    if saved["vendor"] != connection.vendor:
        raise BackupError(f"this is a {saved['vendor']} backup; the database here is {connection.vendor}")
    dump_path = directory / saved["file"]
    if not dump_path.is_file() or media.file_sha256(dump_path) != saved["sha256"]:
        raise BackupError(f"{dump_path} is missing or is not the copy backed up (its sha256 differs)")
    try:
        media.check_copies(directory / MEDIA_FOLDER, files)
    except media.MediaBackupError as error:
        raise BackupError(str(error)) from error
    if not database.is_empty(connection):
        raise BackupError(
            "the database is not empty: restore into a new, empty one (create it, do not migrate it first)"
        )
    clashes = media.conflicts(default_storage, files)
    if clashes:
        raise BackupError(f"the media storage holds other files under the same names: {', '.join(clashes[:5])}")
    try:
        database.restore(connection, dump_path)
        counts = database.table_counts(connection)
        if counts != saved["tables"]:
            differ = sorted(t for t in set(counts) | set(saved["tables"]) if counts.get(t) != saved["tables"].get(t))
            raise BackupError(f"the restored database differs from the backup in {', '.join(differ)}")
        media.copy_in(default_storage, directory / MEDIA_FOLDER, files)
    except (database.DatabaseBackupError, media.MediaBackupError) as error:
        raise BackupError(str(error)) from error
    return _summary(manifest)


def _summary(manifest: dict) -> Summary:
    tables = manifest["database"]["tables"]
    files = manifest["media"]["files"]
    return Summary(
        tables=len(tables),
        rows=sum(tables.values()),
        files=len(files),
        bytes=sum(entry["size"] for entry in files),
        missing_media=list(manifest["missing_media"]),
    )
