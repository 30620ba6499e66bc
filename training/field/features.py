"""Backbone features of every view of every photo, computed once and cached on disk.

The field recipe trains its classifier head (and, when it fine-tunes, the top of the backbone) on a
frozen ImageNet backbone, so a view's activations at the frozen boundary never change between
folds, arms or repeats: they are computed once per image size and boundary and kept in an ``.npz``
file named after what they depend on (photos, views, seed, size, weights, boundary). Without a
boundary the cached activations are the pooled features the head reads.

Per photo: the plain view (what the worker sees), ``copies`` field-like views, and for lab
potato photos ``copies`` views pasted onto field photos of other crops (``background`` says which
one, so a fold can drop views whose background is one of its test photos).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.field.data import FIELD, LAB, PoolImage
from training.field.photo_views import field_like, load_working_image, pasted_on_background, plain

logger = logging.getLogger(__name__)
BATCH = 64


@dataclass
class ViewFeatures:
    """Activations (float16 on disk, float32 in use) of the views of ``keys``, in that order.

    ``shape`` below is one view's activations: ``(d,)`` pooled features, or the boundary layer's
    ``(height, width, channels)`` when the recipe fine-tunes the top of the backbone.
    """

    keys: list[str]
    plain: np.ndarray  # (n, *shape)
    field_like: np.ndarray  # (n, copies, *shape)
    pasted: np.ndarray  # (n, copies, *shape); zeros where a photo has no pasted views
    background: np.ndarray  # (n, copies) index into keys of the pasted view's background, -1 for none

    def index(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.keys)}


def takes_paste(image: PoolImage, reject_label: str) -> bool:
    """Lab potato photos are cut out and pasted: their plain background makes the mask simple."""
    return image.domain == LAB and image.label != reject_label


def is_background(image: PoolImage, reject_label: str) -> bool:
    """Field photos of other crops are the gardens pasted leaves land in."""
    return image.domain == FIELD and image.label == reject_label


def cache_path(
    cache_dir: Path,
    images: Sequence[PoolImage],
    image_size: int,
    copies: int,
    seed: int,
    weights,
    boundary: str | None = None,
) -> Path:
    described = [[image.key for image in images], image_size, copies, seed, Path(str(weights)).name]
    fingerprint = hashlib.sha256(json.dumps(described + ([boundary] if boundary else [])).encode()).hexdigest()[:16]
    at = f"-{boundary}" if boundary else ""
    return Path(cache_dir) / f"features-{image_size}px{at}-{copies}x-{fingerprint}.npz"


def compute_view_features(
    images: Sequence[PoolImage],
    reject_label: str,
    image_size: int,
    weights: str | None,
    copies: int = 3,
    seed: int = 2026,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = logger.info,
    boundary: str | None = None,
) -> ViewFeatures:
    """Every view's features (or activations at the backbone layer ``boundary``), from the cache
    when it has them."""
    path = cache_path(cache_dir, images, image_size, copies, seed, weights, boundary) if cache_dir else None
    if path and path.exists():
        log(f"features from cache {path}")
        return _load(path)
    started = time.monotonic()
    backgrounds = [i for i, image in enumerate(images) if is_background(image, reject_label)]
    extractor = _extractor(image_size, weights, boundary)
    views_per_photo = [1 + copies + (copies if takes_paste(image, reject_label) else 0) for image in images]
    total = sum(views_per_photo)
    log(f"computing features of {total} views of {len(images)} photos at {image_size} px")

    def make_views(position: int) -> tuple[list[np.ndarray], list[int]]:
        image = images[position]
        rng = np.random.default_rng([seed, position])
        working = load_working_image(image.path)
        views = [plain(working, image_size)] + [field_like(working, rng, image_size) for _ in range(copies)]
        chosen = []
        if takes_paste(image, reject_label) and backgrounds:
            for _ in range(copies):
                chosen.append(int(rng.choice(backgrounds)))
                views.append(pasted_on_background(working, background_image(chosen[-1]), rng, image_size))
        return views, chosen

    @functools.cache
    def background_image(position: int):
        return load_working_image(images[position].path)

    shape = tuple(extractor.output_shape[1:])
    plain_features = np.zeros((len(images), *shape), np.float16)
    field_features = np.zeros((len(images), copies, *shape), np.float16)
    pasted_features = np.zeros((len(images), copies, *shape), np.float16)
    background = np.full((len(images), copies), -1, np.int32)
    done = 0
    chunk = 32  # photos per batch of views
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, len(images), chunk):
            positions = range(start, min(start + chunk, len(images)))
            made = list(pool.map(make_views, positions))
            batch = np.stack([view for views, _ in made for view in views]).astype(np.float32)
            features = np.concatenate(
                [np.asarray(extractor(batch[i : i + BATCH], training=False)) for i in range(0, len(batch), BATCH)]
            )
            row = 0
            for position, (views, chosen) in zip(positions, made, strict=True):
                plain_features[position] = features[row]
                field_features[position] = features[row + 1 : row + 1 + copies]
                if chosen:
                    pasted_features[position] = features[row + 1 + copies : row + 1 + 2 * copies]
                    background[position] = chosen
                row += len(views)
            done += len(batch)
            elapsed = time.monotonic() - started
            log(f"  {done}/{total} views, {done / elapsed:.0f}/s, about {(total - done) / done * elapsed:.0f} s left")
    result = ViewFeatures([image.key for image in images], plain_features, field_features, pasted_features, background)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save(path, result)
    log(f"features done in {time.monotonic() - started:.0f} s")
    return result


def _extractor(image_size: int, weights: str | None, boundary: str | None = None):
    """Images (0..255) to the backbone's pooled features, or to its activations at ``boundary``;
    BatchNormalization in inference mode."""
    import keras

    from training.architecture import build_classifier, feature_extractor

    model = build_classifier(2, image_size, weights=weights)
    if boundary:
        frozen = feature_extractor(model, [boundary])
        return keras.Model(frozen.input, frozen.outputs[0], name=f"activations_at_{boundary}")
    return keras.Model(model.input, model.get_layer("dropout").input, name="pooled_features")


def _save(path: Path, features: ViewFeatures) -> None:
    partial = path.with_suffix(".partial.npz")
    np.savez(
        partial,
        keys=np.array(features.keys),
        plain=features.plain,
        field_like=features.field_like,
        pasted=features.pasted,
        background=features.background,
    )
    partial.replace(path)


def _load(path: Path) -> ViewFeatures:
    with np.load(path) as data:
        return ViewFeatures(
            [str(key) for key in data["keys"]],
            data["plain"],
            data["field_like"],
            data["pasted"],
            data["background"],
        )
