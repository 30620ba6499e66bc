"""Photos for tests: real ones from the shared data, and small generated ones."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from PIL import Image

from training.datasets import list_class_images, split_by_photo

DATA_ROOT = Path(settings.DATA_ROOT)


def heldout_photos(label: str, count: int) -> list[Path]:
    """PlantVillage photos the shipped model never trained on (the same hash split as training)."""
    items = [item for item in list_class_images(DATA_ROOT / "plantvillage-potato") if item.label == label]
    _, holdout = split_by_photo(items, 0.2)
    return [item.path for item in holdout[:count]]


def jpeg_bytes(size=(64, 48), color=(40, 120, 40), **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG", **save_options)
    return buffer.getvalue()


def png_bytes(size=(64, 48), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def noise_jpeg_bytes(size=(600, 600)) -> bytes:
    """Random pixels: a JPEG that does not compress, for size limits."""
    import os

    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def jpeg_with_gps(path: Path | None = None, size=(320, 240)) -> bytes:
    """A phone photo as it leaves the camera: EXIF with GPS coordinates, the camera's make and a comment
    (a real leaf from ``path``, else a plain colour)."""
    image = Image.open(path).convert("RGB").resize(size) if path else Image.new("RGB", size, (60, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (1.0, 15.0, 0.0)  # GPS latitude: Kabale
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"farmer Mugisha 0772123456")
    return buffer.getvalue()
