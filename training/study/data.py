"""The study's photos: which ones (development, held-out test, field), decoded, with augmented copies.

Listing and splitting need no decoding (cheap, done on every run so ``study.json`` and
``splits.json`` can be written first); decoding and offline augmentation happen only when there
are folds left to train.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.datasets import (
    LabelledArrays,
    LabelledImage,
    class_names_of,
    hash_fraction,
    list_class_images,
    load_arrays,
)
from training.study.experiments import StudySettings
from training.study.splits import heldout_test_split


@dataclass
class StudyPhotos:
    """Which photos the study uses, before any decoding."""

    class_names: list[str]
    dev: list[LabelledImage]
    test: list[LabelledImage]
    field: list[LabelledImage] = dataclasses.field(default_factory=list)
    field_skipped: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def dev_labels(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.class_names)}
        return np.array([index[item.label] for item in self.dev], dtype=np.int32)

    @property
    def dev_photo_ids(self) -> list[str]:
        return [item.photo_id for item in self.dev]


@dataclass
class StudyData:
    """Decoded photos: development originals with their augmented copies, test and field photos."""

    photos: StudyPhotos
    dev: LabelledArrays
    copies: np.ndarray  # (n_dev, factor - 1, size, size, 3) uint8
    test: LabelledArrays
    field: LabelledArrays
    seconds: dict[str, float]

    def view_images(self, views: np.ndarray) -> np.ndarray:
        """Pixels of ``views`` ((photo, copy) pairs; copy 0 is the original)."""
        out = np.empty((len(views), *self.dev.images.shape[1:]), dtype=np.uint8)
        original = views[:, 1] == 0
        out[original] = self.dev.images[views[original, 0]]
        augmented = ~original
        out[augmented] = self.copies[views[augmented, 0], views[augmented, 1] - 1]
        return out

    def view_labels(self, views: np.ndarray) -> np.ndarray:
        return self.dev.labels[views[:, 0]]


def cap_per_class(items: list[LabelledImage], cap: int | None, salt: str = "study-subset") -> list[LabelledImage]:
    """At most ``cap`` photos per class, chosen by a stable hash (a fixed pseudo-random subset)."""
    if not cap:
        return list(items)
    by_class: dict[str, list[LabelledImage]] = {}
    for item in items:
        by_class.setdefault(item.label, []).append(item)
    kept = []
    for label in sorted(by_class):
        ranked = sorted(by_class[label], key=lambda item: hash_fraction(item.photo_id, salt))
        kept += sorted(ranked[:cap], key=lambda item: str(item.path))
    return kept


def list_study_photos(settings: StudySettings, data_dir: Path, field_dir: Path | None) -> StudyPhotos:
    """Lab photos split into development and held-out test; field photos of the lab's classes."""
    lab = cap_per_class(list_class_images(data_dir), settings.max_per_class)
    class_names = class_names_of(lab)
    dev, test = heldout_test_split(lab, settings.test_fraction)
    field_items, skipped = [], {}
    if field_dir and Path(field_dir).is_dir():
        for item in cap_per_class(list_class_images(field_dir, source="field"), settings.max_per_class):
            if item.label in class_names:
                field_items.append(item)
            else:
                skipped[item.label] = skipped.get(item.label, 0) + 1
    return StudyPhotos(class_names, dev, test, field_items, skipped)


def load_study_data(settings: StudySettings, photos: StudyPhotos, log=print) -> StudyData:
    """Decode every photo with the serving preprocessing and make the offline augmented copies."""
    from training.augmentation import augmented_copies

    seconds = {}
    started = time.monotonic()
    dev = load_arrays(photos.dev, photos.class_names, settings.image_size)
    test = load_arrays(photos.test, photos.class_names, settings.image_size)
    field_arrays = load_arrays(photos.field, photos.class_names, settings.image_size)
    seconds["decode"] = time.monotonic() - started
    log(f"decoded {len(dev.items)} development, {len(test.items)} test, {len(field_arrays.items)} field photos")
    started = time.monotonic()
    copies = augmented_copies(dev.images, settings.augment_factor - 1, seed=settings.seed)
    seconds["augment"] = time.monotonic() - started
    log(f"made {copies.shape[0] * copies.shape[1]} augmented copies ({settings.augment_factor}x in all)")
    return StudyData(photos, dev, copies, test, field_arrays, seconds)
