"""Views of a photo that look like a farmer's field photo: the two ways lab photos are made field-like.

- :func:`field_like`: a strong random change of any photo: a crop down to part of the leaf,
  turned, colour and white balance shifted, a shadow, blur, sensor noise, JPEG artefacts.
- :func:`pasted_on_background`: a PlantVillage leaf cut out of its plain background (a mask from
  the difference to the border colour) and pasted, turned and scaled, onto a field photo of other
  plants, then changed as above so leaf and background share light and artefacts.

Pillow and numpy only, deterministic for a given ``numpy.random.Generator``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from classifier.preprocessing import center_square, to_model_input, upright_rgb

WORKING_SIDE = 256  # views are made at this size, then shrunk to the model's input


def load_working_image(path: Path | str, side: int = WORKING_SIDE) -> Image.Image:
    """The photo upright, in RGB, its short side ``side`` pixels (aspect kept for random crops)."""
    with Image.open(path) as image:
        image = upright_rgb(image, side)
        scale = side / min(image.size)
        size = (max(side, round(image.width * scale)), max(side, round(image.height * scale)))
        return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def plain(image: Image.Image, image_size: int) -> np.ndarray:
    """The photo as the worker sees it: centre square, resized (``classifier.preprocessing``)."""
    return to_model_input(image, image_size).astype(np.uint8)


def field_like(image: Image.Image, rng: np.random.Generator, image_size: int) -> np.ndarray:
    """A random crop of ``image`` changed the way a phone in a garden changes a photo."""
    return plain(_photographic(_random_crop(image, rng), rng), image_size)


def pasted_on_background(
    leaf: Image.Image, background: Image.Image, rng: np.random.Generator, image_size: int
) -> np.ndarray:
    """``leaf`` (a lab photo on a plain background) cut out and pasted onto ``background``."""
    side = WORKING_SIDE
    canvas = _random_crop(background, rng, min_area=0.3).resize((side, side), Image.Resampling.BILINEAR)
    leaf = center_square(leaf).resize((side, side), Image.Resampling.BILINEAR)
    mask = leaf_mask(leaf)
    angle = float(rng.uniform(0, 360))
    leaf = leaf.rotate(angle, resample=Image.Resampling.BILINEAR)
    mask = mask.rotate(angle, resample=Image.Resampling.BILINEAR)
    scale = float(rng.uniform(0.6, 1.0))
    target = max(8, round(side * scale))
    leaf = leaf.resize((target, target), Image.Resampling.BILINEAR)
    mask = mask.resize((target, target), Image.Resampling.BILINEAR)
    offset = (int(rng.integers(0, side - target + 1)), int(rng.integers(0, side - target + 1)))
    canvas.paste(leaf, offset, mask)
    return plain(_photographic(canvas, rng), image_size)


def leaf_mask(image: Image.Image, min_saturation: int = 60) -> Image.Image:
    """An 8-bit mask of the leaf: PlantVillage backgrounds and shadows are grey, leaves are coloured.

    Pixels with HSV saturation over ``min_saturation`` (and not black) are leaf; holes (dark
    lesions) are filled, specks dropped and the edge softened so the paste has no hard seam.
    """
    hsv = np.asarray(image.convert("HSV"), dtype=np.uint8)
    from scipy.ndimage import binary_fill_holes

    leaf = binary_fill_holes((hsv[..., 1] > min_saturation) & (hsv[..., 2] > 30))  # dark lesions too
    mask = Image.fromarray(np.where(leaf, 255, 0).astype(np.uint8))
    mask = mask.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5))  # drop specks
    return mask.filter(ImageFilter.GaussianBlur(1.5))


# -- the pieces ----------------------------------------------------------------------------------


def _random_crop(image: Image.Image, rng: np.random.Generator, min_area: float = 0.25) -> Image.Image:
    """A random square-ish crop of ``min_area``..1 of the image, flipped and turned at random."""
    width, height = image.size
    area = width * height * rng.uniform(min_area, 1.0)
    ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    crop_w = int(min(width, round(np.sqrt(area * ratio))))
    crop_h = int(min(height, round(np.sqrt(area / ratio))))
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    crop = image.crop((left, top, left + crop_w, top + crop_h))
    if rng.random() < 0.5:
        crop = ImageOps.mirror(crop)
    crop = crop.rotate(float(rng.choice([0, 90, 180, 270])), expand=True)
    angle = float(rng.uniform(-20, 20))
    if abs(angle) > 1:  # a small tilt, then cut the corners it filled
        crop = crop.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
        inset = int(min(crop.size) * 0.18)
        crop = crop.crop((inset, inset, crop.width - inset, crop.height - inset))
    return crop.resize((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR)


def _photographic(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Light, colour, shadow, focus and sensor noise of a phone in the field."""
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.55, 1.35))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.6, 1.4))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.6, 1.4))
    pixels = np.asarray(image, dtype=np.float32) * rng.uniform(0.85, 1.15, size=3)  # white balance
    if rng.random() < 0.4:
        pixels *= _shadow(image.size, rng)[..., None]
    if rng.random() < 0.3:
        pixels += rng.normal(0, rng.uniform(3, 12), size=pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.8))))
    if rng.random() < 0.6:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(25, 86)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def _shadow(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A multiplier in (0, 1]: a random polygon darkened, edges soft, like a hand's or a plant's shadow."""
    width, height = size
    points = [(float(rng.uniform(0, width)), float(rng.uniform(0, height))) for _ in range(int(rng.integers(3, 7)))]
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(points, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(width / 20))
    darkness = rng.uniform(0.35, 0.75)
    return 1.0 - (1.0 - darkness) * np.asarray(mask, dtype=np.float32) / 255.0
