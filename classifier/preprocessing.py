"""Turning a photo into the model's input: one function for training and serving.

Training (``training.datasets``) and the inference worker (``classifier.inference``) both call
:func:`load_model_input`, so a leaf is seen the same way in both places. The model itself holds
the scaling to MobileNetV2's [-1, 1] range (a ``Rescaling`` layer), so the input here stays
plain RGB values in [0, 255].
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

#: Side of the square the shipped model sees (224x224 RGB, ``classifier/default_model/labels.json``).
#: Every model carries its own size (``ModelVersion.image_size``); the study reproduces the paper at 128.
DEFAULT_IMAGE_SIZE = 224


def upright_rgb(image: Image.Image, target_side: int = DEFAULT_IMAGE_SIZE) -> Image.Image:
    """Return ``image`` cheaply decoded, turned upright (EXIF orientation) and in RGB.

    ``draft`` lets the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding (DCT scaling), so a
    12-megapixel phone photo decodes in a fraction of the full cost; it never goes below
    ``target_side`` on the short side.
    """
    if image.format == "JPEG":
        image.draft("RGB", (target_side, target_side))
    image = ImageOps.exif_transpose(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def center_square(image: Image.Image) -> Image.Image:
    """Crop the largest centred square: farmers frame the leaf in the middle."""
    width, height = image.size
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def to_model_input(image: Image.Image, image_size: int = DEFAULT_IMAGE_SIZE) -> np.ndarray:
    """Centre-crop, resize and return a float32 array of shape (size, size, 3) in [0, 255]."""
    square = center_square(image)
    if square.size != (image_size, image_size):
        square = square.resize((image_size, image_size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(square, dtype=np.float32)


def load_model_input(source: str | BinaryIO, image_size: int = DEFAULT_IMAGE_SIZE) -> np.ndarray:
    """Open ``source`` and return the model's input array; the one path training and serving share."""
    with Image.open(source) as image:
        return to_model_input(upright_rgb(image, image_size), image_size)


#: Test-time views of one photo: as sent, mirrored left to right, and its centre zoomed in (the middle
#: ``ZOOM`` of the square, where farmers frame the leaf). A rule may combine several per photo.
TEST_TIME_VIEWS = ("as_sent", "mirrored", "zoomed")
ZOOM = 0.8


def view_of(image: Image.Image, view: str) -> Image.Image:
    """One test-time view of an upright RGB photo."""
    if view == "mirrored":
        return ImageOps.mirror(image)
    if view == "zoomed":
        square = center_square(image)
        side = square.width
        margin = round(side * (1 - ZOOM) / 2)
        return square.crop((margin, margin, side - margin, side - margin))
    if view == "as_sent":
        return image
    raise ValueError(f"unknown view {view!r}")


def load_model_input_views(
    source: str | BinaryIO, image_size: int = DEFAULT_IMAGE_SIZE, views: tuple[str, ...] = ("as_sent",)
) -> np.ndarray:
    """The model's input for each of ``views`` of ``source``: (views, size, size, 3). "as_sent" is exactly
    :func:`load_model_input`'s; the zoomed view is decoded larger, so the zoom does not upscale. The photo
    is decoded once per decoding size (as sent and mirrored share one)."""
    data = source.read() if hasattr(source, "read") else Path(source).read_bytes()
    decoded: dict[int, Image.Image] = {}
    arrays = []
    for view in views:
        side = round(image_size / ZOOM) if view == "zoomed" else image_size
        if side not in decoded:
            with Image.open(io.BytesIO(data)) as image:
                decoded[side] = upright_rgb(image, side)
                decoded[side].load()
        arrays.append(to_model_input(view_of(decoded[side], view), image_size))
    return np.stack(arrays)
