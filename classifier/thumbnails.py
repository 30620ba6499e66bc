"""Small square thumbnails for the officers' grid and the farmer's case, made once per photo and kept in
storage (a case's first photo under the case's id, as before cases; the others under ``<id>-<position>``).

A thumbnail is made the first time it is asked for: the JPEG decoder scales while decoding
(``draft``), so even a 2048 px photo costs a few milliseconds, and the grid never loads full images.
"""

from __future__ import annotations

from uuid import UUID

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from classifier.validators import jpeg_without_metadata

THUMBNAIL_SIDE = 192


def photo_key(submission_id: UUID | str, position: int = 0) -> str:
    """The thumbnail key of one photo of a case."""
    return str(submission_id) if position == 0 else f"{submission_id}-{position}"


def thumbnail_name(submission_id: UUID | str, position: int = 0) -> str:
    key = photo_key(submission_id, position)
    return f"thumbnails/{key[:2]}/{key}.jpg"


def make_thumbnail(source, side: int = THUMBNAIL_SIDE) -> bytes:
    """A centred square JPEG of ``side`` pixels (the model also looks at the centre square), without metadata."""
    with Image.open(source) as image:
        if image.format == "JPEG":
            image.draft("RGB", (side, side))
        image = ImageOps.exif_transpose(image).convert("RGB")
        square = ImageOps.fit(image, (side, side), Image.Resampling.BILINEAR)
    return jpeg_without_metadata(square, quality=72, optimize=True)


def ensure_thumbnail(submission_id: UUID | str, image_name: str, position: int = 0) -> str:
    """The storage name of a photo's thumbnail, made now if it does not exist yet."""
    name = thumbnail_name(submission_id, position)
    if default_storage.exists(name):
        return name
    with default_storage.open(image_name, "rb") as source:
        content = make_thumbnail(source)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # another request made it at the same moment: keep theirs
        default_storage.delete(saved)
    return name
