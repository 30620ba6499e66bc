"""What the worker sees of a held-out field photo, and its test-time views: the views a fold is judged on.

A farmer's photo reaches the worker as the upload page sends it (shrunk in the browser to a longest side
and a JPEG quality, ``static/js/photos.js``; emulated here with Pillow) and as the server stores it
(``classifier.validators.validate_photo``: turned upright, at most 1024 px, re-encoded), read by
``classifier.preprocessing``. The decision rule is fitted on predictions of held-out field photos, so
those go through that same path (issue 24, item 6), and each also gets the test-time views
(``classifier.preprocessing.TEST_TIME_VIEWS``) a rule may combine.

The phone's copy is a :class:`PhoneCopy`: ``PHONE_COPY`` (longest side 800 px, JPEG 0.8) is the copy the
page has sent so far, ``SMALL_COPY`` the small model-sized copy it sends first for the diagnosis (issue
26), chosen on the field cross-validation (``cross_validate_field --served-views --served-side``).

Training views are unchanged (``training.field.features``): only what a fold is judged on changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from classifier.preprocessing import TEST_TIME_VIEWS, load_model_input_views, upright_rgb
from classifier.validators import jpeg_without_metadata, validate_photo
from training.field.data import PoolImage

PHONE_MAX_SIDE = 800  # what static/js/upload.js sent before issue 26 (the old served folds were judged on it)
PHONE_JPEG_QUALITY = 80
#: The small copy the phone sends first, for the diagnosis: static/js/photos.js SMALL_SIDE and SMALL_QUALITY
#: (0.8) must say the same. Chosen on the field cross-validation (docs/field/report.md, "The small copy").
SMALL_SIDE = 384
SMALL_JPEG_QUALITY = 80
VERSION = 1  # bump when the path changes: the cache is keyed on it


@dataclass(frozen=True)
class PhoneCopy:
    """How the upload page shrinks a photo before sending it: longest side and JPEG quality (1-100)."""

    side: int = PHONE_MAX_SIDE
    quality: int = PHONE_JPEG_QUALITY

    @property
    def is_default(self) -> bool:
        return (self.side, self.quality) == (PHONE_MAX_SIDE, PHONE_JPEG_QUALITY)

    @property
    def suffix(self) -> str:
        """How results judged on this copy are told apart: "" for the 800 px copy, "384" or "384q70"."""
        if self.is_default:
            return ""
        return f"{self.side}" + ("" if self.quality == PHONE_JPEG_QUALITY else f"q{self.quality}")


PHONE_COPY = PhoneCopy()
SMALL_COPY = PhoneCopy(SMALL_SIDE, SMALL_JPEG_QUALITY)


class _Upload(io.BytesIO):
    """The bytes of a file as Django's upload handlers pass them to ``validate_photo``."""

    @property
    def size(self) -> int:
        return len(self.getbuffer())


def as_sent(path: Path | str, copy: PhoneCopy = PHONE_COPY) -> bytes:
    """The bytes the upload page sends for the photo at ``path``: upright, shrunk, JPEG."""
    with Image.open(path) as image:
        image = upright_rgb(image, copy.side)
        image.thumbnail((copy.side, copy.side), Image.Resampling.BILINEAR)
        return jpeg_without_metadata(image, quality=copy.quality)


def as_uploaded(path: Path | str, copy: PhoneCopy = PHONE_COPY) -> io.BytesIO:
    """The stored copy the worker reads for the photo at ``path``, sent from the upload page."""
    return io.BytesIO(validate_photo(_Upload(as_sent(path, copy))).content)


def served_inputs(
    path: Path | str, image_size: int, views: Sequence[str] = TEST_TIME_VIEWS, copy: PhoneCopy = PHONE_COPY
) -> np.ndarray:
    """(views, size, size, 3): the worker's input for each view of the uploaded photo."""
    return load_model_input_views(as_uploaded(path, copy), image_size, tuple(views))


def sent_bytes(images: Sequence[PoolImage], copy: PhoneCopy = PHONE_COPY) -> dict:
    """What the phone sends for ``images``, in KB per photo (mean, median, 90th percentile, largest): all of
    them, and per collection; ``shrunk``: how many are larger than ``copy.side`` (the others are sent at
    their own size, so the copy changes only their JPEG encoding)."""
    sizes, shrunk = defaultdict(list), 0
    for image in images:
        with Image.open(image.path) as original:
            shrunk += max(original.size) > copy.side
        sizes[image.image.source].append(len(as_sent(image.path, copy)) / 1000)
    every = [size for values in sizes.values() for size in values]
    return {
        "side": copy.side,
        "quality": copy.quality,
        "shrunk": int(shrunk),
        "all": _kilobytes(every),
        "by_source": {source: _kilobytes(values) for source, values in sorted(sizes.items())},
    }


def _kilobytes(values: Sequence[float]) -> dict:
    array = np.array(values, dtype=np.float64)
    return {
        "photos": len(array),
        "mean_kb": round(float(array.mean()), 1),
        "median_kb": round(float(np.median(array)), 1),
        "p90_kb": round(float(np.percentile(array, 90)), 1),
        "max_kb": round(float(array.max()), 1),
    }


def cache_path(
    cache_dir: Path, images: Sequence[PoolImage], image_size: int, weights, boundary: str | None, copy: PhoneCopy
) -> Path:
    """Where the served views' activations are cached: named after everything they depend on."""
    described = [[image.key for image in images], image_size, Path(str(weights)).name, boundary, VERSION]
    described += [] if copy.is_default else [[copy.side, copy.quality]]  # the 800 px copy keeps its old name
    fingerprint = hashlib.sha256(json.dumps([*described, list(TEST_TIME_VIEWS)]).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"served{copy.suffix}-{image_size}px-{boundary}-{fingerprint}.npz"


def compute_served_features(
    images: Sequence[PoolImage],
    image_size: int,
    weights: str | None,
    boundary: str | None,
    cache_dir: Path | None,
    log: Callable[[str], None] = print,
    copy: PhoneCopy = PHONE_COPY,
) -> dict[str, np.ndarray]:
    """{photo key: (views, *activations)} for ``images`` sent as ``copy``, from the cache when it has them."""
    from training.field.features import BATCH, _extractor

    path = cache_path(cache_dir, images, image_size, weights, boundary, copy) if cache_dir else None
    if path and path.exists():
        with np.load(path) as data:
            keys, features = data["keys"], data["features"]  # read once: each data[...] decompresses anew
        return {str(key): features[i] for i, key in enumerate(keys)}
    started = time.monotonic()
    extractor = _extractor(image_size, weights, boundary)
    log(
        f"served views of {len(images)} held-out photos sent at {copy.side} px, quality {copy.quality}: "
        f"{len(TEST_TIME_VIEWS)} views each"
    )
    chunks = []
    per_chunk = max(1, BATCH // len(TEST_TIME_VIEWS))
    for start in range(0, len(images), per_chunk):
        chunk = images[start : start + per_chunk]
        batch = np.concatenate([served_inputs(image.path, image_size, copy=copy) for image in chunk])
        chunks.append(np.asarray(extractor(batch.astype(np.float32), training=False)).astype(np.float16))
    features = np.concatenate(chunks)
    features = features.reshape(len(images), len(TEST_TIME_VIEWS), *features.shape[1:])
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, keys=np.array([image.key for image in images]), features=features)
        partial.replace(path)
    log(f"served views done in {time.monotonic() - started:.0f} s")
    return {image.key: features[i] for i, image in enumerate(images)}
