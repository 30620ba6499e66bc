"""Checking an uploaded photo before anything is stored, and making the copy we keep.

Every refusal is a ``ValidationError`` with a message a farmer can act on. The stored copy is
re-encoded: turned upright, at most ``STORED_IMAGE_MAX_SIDE`` pixels (enough for officers to
zoom in on a leaf, and what the page's own resizing sends anyway), with no metadata: no EXIF (no
GPS), no XMP, no JPEG comment and no PNG/WebP text chunks, which phones and apps fill with names,
numbers and places (:func:`jpeg_without_metadata`, also used for the thumbnails).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF, the default photo format of iPhones and some Android phones.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_FORMATS = {"HEIF"}
except ImportError:  # pragma: no cover - optional
    HEIF_FORMATS = set()

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"} | HEIF_FORMATS
STORED_JPEG_QUALITY = 90


@dataclass(frozen=True)
class CleanPhoto:
    """The photo as we store it: JPEG bytes and their size."""

    content: bytes
    width: int
    height: int
    original_format: str


def too_big_message() -> str:
    """What a farmer is told about a photo over ``MAX_UPLOAD_BYTES``, here or before its request is read."""
    limit_mb = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
    return _("The photo is too big (more than %(limit)s MB). Please send a smaller photo.") % {"limit": limit_mb}


def validate_photo(upload) -> CleanPhoto:
    """Check ``upload`` (a file-like object with ``size``) and return the copy to store."""
    size = getattr(upload, "size", None)
    if size == 0:
        raise ValidationError(_("The file is empty. Please take the photo again."), code="empty")
    if size is not None and size > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(too_big_message(), code="too_big")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError(
            _("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC photo."),
            code="not_an_image",
        ) from None
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise ValidationError(
                _("Photos in %(format)s format are not accepted. Please send a JPEG, PNG, WebP or HEIC photo.")
                % {"format": image.format or "this"},
                code="format",
            )
        width, height = image.size
        if width * height > settings.MAX_UPLOAD_PIXELS or width <= 0 or height <= 0:
            raise _too_many_pixels()
        return _stored_copy(image)


def _too_many_pixels() -> ValidationError:
    megapixels = settings.MAX_UPLOAD_PIXELS // 1_000_000
    return ValidationError(
        _("The photo has too many pixels (more than %(limit)s megapixels).") % {"limit": megapixels},
        code="too_many_pixels",
    )


def _stored_copy(image: Image.Image) -> CleanPhoto:
    original_format = image.format
    max_side = settings.STORED_IMAGE_MAX_SIDE
    try:
        if image.format in {"JPEG", "MPO"}:
            # Decode at 1/2, 1/4 or 1/8 scale while keeping at least half the stored size:
            # a 12-megapixel photo then costs a fraction of a full decode.
            image.draft("RGB", (max_side // 2, max_side // 2))
        upright = ImageOps.exif_transpose(image)  # decodes the whole photo: truncation shows here
        if upright.mode != "RGB":
            upright = _flatten(upright)
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        content = jpeg_without_metadata(upright, quality=STORED_JPEG_QUALITY)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            _("The photo is incomplete or damaged (the upload may have been cut off). Please send it again."),
            code="damaged",
        ) from None
    return CleanPhoto(content, upright.width, upright.height, original_format)


def jpeg_without_metadata(image: Image.Image, **options) -> bytes:
    """``image`` encoded as JPEG with pixels only (``image.info`` is emptied on the way).

    Pillow writes ``image.info["comment"]`` back as a JPEG comment, and a PNG ``tEXt`` chunk
    named "comment" lands there too; EXIF, XMP and ICC are written only when passed in
    ``options``. Emptying ``info`` keeps every decoded text out of what officers are served.
    """
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white for photos with transparency or a palette."""
    if image.mode in {"RGBA", "LA", "P"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
