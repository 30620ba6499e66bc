"""What the worker sees of a held-out field photo, and its test-time views: the views a fold is judged on.

A farmer's photo reaches the worker as the upload page sends it (shrunk in the browser: longest side
800 px, JPEG quality 0.8, ``static/js/upload.js``; emulated here with Pillow) and as the server stores
it (``classifier.validators.validate_photo``: turned upright, at most 1024 px, re-encoded), read by
``classifier.preprocessing``. The decision rule is fitted on predictions of held-out field photos, so
those go through that same path (issue 24, item 6), and each also gets the test-time views
(``classifier.preprocessing.TEST_TIME_VIEWS``) a rule may combine.

Training views are unchanged (``training.field.features``): only what a fold is judged on changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from classifier.preprocessing import TEST_TIME_VIEWS, load_model_input_views, upright_rgb
from classifier.validators import jpeg_without_metadata, validate_photo
from training.field.data import PoolImage

PHONE_MAX_SIDE = 800  # static/js/upload.js MAX_SIDE
PHONE_JPEG_QUALITY = 80  # static/js/upload.js QUALITY (0.8)
VERSION = 1  # bump when the path changes: the cache is keyed on it


class _Upload(io.BytesIO):
    """The bytes of a file as Django's upload handlers pass them to ``validate_photo``."""

    @property
    def size(self) -> int:
        return len(self.getbuffer())


def as_uploaded(path: Path | str) -> io.BytesIO:
    """The stored copy the worker reads for the photo at ``path``, sent from the upload page."""
    with Image.open(path) as image:
        image = upright_rgb(image, PHONE_MAX_SIDE)
        image.thumbnail((PHONE_MAX_SIDE, PHONE_MAX_SIDE), Image.Resampling.BILINEAR)
        sent = jpeg_without_metadata(image, quality=PHONE_JPEG_QUALITY)
    return io.BytesIO(validate_photo(_Upload(sent)).content)


def served_inputs(path: Path | str, image_size: int, views: Sequence[str] = TEST_TIME_VIEWS) -> np.ndarray:
    """(views, size, size, 3): the worker's input for each view of the uploaded photo."""
    return load_model_input_views(as_uploaded(path), image_size, tuple(views))


def compute_served_features(
    images: Sequence[PoolImage],
    image_size: int,
    weights: str | None,
    boundary: str | None,
    cache_dir: Path | None,
    log: Callable[[str], None] = print,
) -> dict[str, np.ndarray]:
    """{photo key: (views, *activations)} for ``images``, from the cache when it has them."""
    from training.field.features import BATCH, _extractor

    described = [[image.key for image in images], image_size, Path(str(weights)).name, boundary, VERSION]
    fingerprint = hashlib.sha256(json.dumps([*described, list(TEST_TIME_VIEWS)]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"served-{image_size}px-{boundary}-{fingerprint}.npz" if cache_dir else None
    if path and path.exists():
        with np.load(path) as data:
            keys, features = data["keys"], data["features"]  # read once: each data[...] decompresses anew
        return {str(key): features[i] for i, key in enumerate(keys)}
    started = time.monotonic()
    extractor = _extractor(image_size, weights, boundary)
    log(f"served views of {len(images)} held-out photos: {len(TEST_TIME_VIEWS)} views each")
    chunks = []
    per_chunk = max(1, BATCH // len(TEST_TIME_VIEWS))
    for start in range(0, len(images), per_chunk):
        batch = np.concatenate([served_inputs(image.path, image_size) for image in images[start : start + per_chunk]])
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
