"""The larger copy of a photo, sent after its answer and resumable (issue 26).

The phone sends a small copy of each leaf first (what the model reads, a few tens of KB), then a larger
one for officers to zoom into, in pieces: each piece says where it starts and the whole copy's size
(``Content-Range``). A piece that starts where the stored ones end is kept; one sent again is
ignored; one that skips ahead is refused with the offset to resume from. When the last piece
arrives the copy is checked like any upload (``validate_photo``: a photo, no metadata, at most
``STORED_IMAGE_MAX_SIDE``) and kept as ``Photo.original``. A copy that never arrives costs nothing:
the case is answered and reviewed on the small copy, and its pieces are deleted after a day.

Pieces live in the media storage (``partial/``), so this works the same on every web machine and
with any storage backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from classifier.models import Photo
from classifier.validators import validate_photo

logger = logging.getLogger(__name__)

PARTIAL_DIR = "partial"
#: The largest piece one request may carry (the page sends 128 KB pieces).
MAX_PIECE_BYTES = 1024 * 1024


class OriginalError(ValueError):
    """A piece that cannot be taken: ``code`` says why (``missing``, ``range``, ``offset``, ``photo``)."""

    def __init__(self, code: str, message: str, received: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.received = received


@dataclass(frozen=True)
class Progress:
    received: int
    total: int | None
    complete: bool


def _folder(photo: Photo) -> str:
    return f"{PARTIAL_DIR}/{photo.submission_id}-{photo.position}"


def _pieces(photo: Photo) -> list[tuple[int, int, str]]:
    """The stored pieces, ``(start, total, name)``, in order."""
    try:
        _, files = default_storage.listdir(_folder(photo))
    except (FileNotFoundError, NotADirectoryError):
        return []
    pieces = []
    for name in files:
        try:
            start, total = (int(part) for part in name.removesuffix(".part").split("-"))
        except ValueError:
            continue
        pieces.append((start, total, f"{_folder(photo)}/{name}"))
    return sorted(pieces)


def _received(pieces: list[tuple[int, int, str]]) -> int:
    """Bytes held from the start without a gap."""
    received = 0
    for start, _total, name in pieces:
        if start != received:
            break
        received += default_storage.size(name)
    return received


def _delete(pieces: list[tuple[int, int, str]]) -> None:
    for _start, _total, name in pieces:
        default_storage.delete(name)


def _photo(submission_id: UUID | str, position: int, lock: bool = False) -> Photo:
    photos = Photo.objects.select_for_update() if lock else Photo.objects
    try:
        return photos.get(submission_id=submission_id, position=position)
    except (Photo.DoesNotExist, ValueError, ValidationError):
        raise OriginalError("missing", "no such photo") from None


def progress(submission_id: UUID | str, position: int) -> Progress:
    """How much of a photo's larger copy has arrived (what a phone resumes from)."""
    photo = _photo(submission_id, position)
    if photo.original:
        return Progress(0, None, True)
    pieces = _pieces(photo)
    return Progress(_received(pieces), pieces[0][1] if pieces else None, False)


def receive_piece(submission_id: UUID | str, position: int, start: int, total: int, data: bytes) -> Progress:
    """Keep one piece of a photo's larger copy; on the last one, check and store the copy."""
    if not 0 < total <= settings.MAX_UPLOAD_BYTES or not data or len(data) > MAX_PIECE_BYTES:
        raise OriginalError("range", "a piece of 1 byte to 1 MB of a copy of at most MAX_UPLOAD_BYTES")
    if start < 0 or start + len(data) > total:
        raise OriginalError("range", "the piece does not fit the copy's size")
    with transaction.atomic():
        photo = _photo(submission_id, position, lock=True)  # one piece of a photo at a time
        if photo.original:
            return Progress(0, None, True)
        pieces = _pieces(photo)
        if pieces and pieces[0][1] != total:  # a new copy of other size: start again
            _delete(pieces)
            pieces = []
        received = _received(pieces)
        if start > received:
            raise OriginalError("offset", "resume from the offset received", received)
        if start + len(data) <= received:
            return Progress(received, total, False)  # sent again: already here
        data = data[received - start :]
        default_storage.save(f"{_folder(photo)}/{received:012d}-{total}.part", ContentFile(data))
        received += len(data)
        if received < total:
            return Progress(received, total, False)
        pieces = _pieces(photo)
        content = b"".join(default_storage.open(name, "rb").read() for _s, _t, name in pieces)
        upload = ContentFile(content)
        try:
            clean = validate_photo(upload)
        except ValidationError as error:
            _delete(pieces)
            raise OriginalError("photo", " ".join(error.messages)) from None
        photo.original.save(f"{photo.submission_id}-{photo.position}.jpg", ContentFile(clean.content), save=False)
        try:
            Photo.objects.filter(pk=photo.pk).update(original=photo.original.name)
        except Exception:
            photo.original.delete(save=False)
            raise
        transaction.on_commit(lambda: _delete(pieces))
    return Progress(total, total, True)


def forget_partial_originals(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete the pieces of larger copies that stopped arriving (none written for ``older_than``); returns
    how many pieces."""
    try:
        folders, _ = default_storage.listdir(PARTIAL_DIR)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    cutoff = timezone.now() - older_than
    deleted = 0
    for folder in folders:
        _, files = default_storage.listdir(f"{PARTIAL_DIR}/{folder}")
        names = [f"{PARTIAL_DIR}/{folder}/{name}" for name in files]
        if names and max(default_storage.get_modified_time(name) for name in names) > cutoff:
            continue  # a phone is still sending it
        for name in names:
            default_storage.delete(name)
            deleted += 1
    return deleted
