"""Model files as the runtimes need them: a local path, whatever the storage (disk or S3).

Inference, heatmaps and retraining all read a version's files through ``local_model_file``. On
local storage that is the stored file itself. On remote storage it is one cached copy per
content: the file is downloaded to a temporary name unique to this process and thread, checked
against the sha256 recorded when the version was registered, and renamed into place atomically,
so two worker processes caching the same model at once never read a half-written file, and a
cache left from another database (version numbers reused) is never mistaken for this model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

CHUNK = 1 << 20


class ModelFileCorrupt(OSError):
    """The downloaded file is not the one registered (its sha256 differs)."""


def path_sha256(path: Path | str) -> str:
    """The sha256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_copy(version, name: str) -> Path:
    """A local path to one of ``version``'s stored files (its model file, or its Keras file)."""
    return local_model_file(name, (version.file_hashes or {}).get(name, ""))


def local_model_file(name: str, sha256: str = "") -> Path:
    """A local path to the stored file ``name``; ``sha256`` (when known) keys and checks the copy."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:  # remote storage such as S3 has no local path
        pass
    cache_dir = Path(settings.MODEL_CACHE_DIR)
    suffix = Path(name).suffix
    if sha256:
        cached = cache_dir / f"{sha256}{suffix}"
        if cached.exists():
            return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=cache_dir, prefix=".partial-", suffix=suffix)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as target, default_storage.open(name, "rb") as source:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                target.write(chunk)
        if sha256 and digest.hexdigest() != sha256:
            raise ModelFileCorrupt(f"{name}: sha256 {digest.hexdigest()} is not the registered {sha256}")
        cached = cache_dir / f"{digest.hexdigest()}{suffix}"
        os.replace(partial, cached)  # atomic: readers see no file or the whole file
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return cached
