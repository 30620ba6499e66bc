"""The data protocol: held-out test photos, stratified folds by photo, and offline augmentation views.

A *view* is one image the model sees: ``(photo, copy)`` where copy 0 is the original photo and
copies ``1..factor-1`` are its offline-augmented versions. Views are index pairs into the arrays
of original photos and of their augmented copies, so a split never copies pixels.

Two protocols:

- ``split-first`` (ours): split the original photos into folds (stratified, grouped by photo), then
  give the training side every view of its photos and the validation side the originals only.
  No photo, nor any copy of it, is on both sides.
- ``augment-first`` (the paper's order): make every view of every photo, then split the views.
  Copies of one photo land on both sides: the difference in accuracy is leakage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.datasets import LabelledImage, split_by_photo


def heldout_test_split(
    items: Sequence[LabelledImage], fraction: float, salt: str = "study-test"
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(development, test) by original photo; the test photos never take part in any choice."""
    if fraction <= 0:
        return list(items), []
    return split_by_photo(items, fraction, salt=salt)


def photo_folds(labels: np.ndarray, photo_ids: Sequence[str], folds: int, seed: int) -> list[np.ndarray]:
    """Fold number of each photo: stratified by class and grouped by original photo.

    Returns, for each fold, the indices of its validation photos.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    placeholder = np.zeros(len(labels))
    return [np.sort(val) for _, val in splitter.split(placeholder, labels, groups=list(photo_ids))]


def views_of(photos: np.ndarray, factor: int) -> np.ndarray:
    """Every view ``(photo, copy)`` of ``photos``, shape (len(photos) * factor, 2)."""
    photos = np.asarray(photos, dtype=np.int64)
    copies = np.arange(factor, dtype=np.int64)
    return np.stack([np.repeat(photos, factor), np.tile(copies, len(photos))], axis=1)


def originals_of(photos: np.ndarray) -> np.ndarray:
    photos = np.asarray(photos, dtype=np.int64)
    return np.stack([photos, np.zeros_like(photos)], axis=1)


def split_first_views(val_photos: np.ndarray, n_photos: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Our protocol for one fold: (training views, validation views)."""
    is_val = np.zeros(n_photos, dtype=bool)
    is_val[val_photos] = True
    train_photos = np.flatnonzero(~is_val)
    return views_of(train_photos, factor), originals_of(np.flatnonzero(is_val))


def augment_first_folds(labels: np.ndarray, factor: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The paper's order: stratified folds over all views, ignoring which photo a view came from."""
    from sklearn.model_selection import StratifiedKFold

    views = views_of(np.arange(len(labels)), factor)
    view_labels = np.asarray(labels)[views[:, 0]]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(views[train], views[val]) for train, val in splitter.split(views, view_labels)]


def fold_views(
    protocol: str, labels: np.ndarray, photo_ids: Sequence[str], factor: int, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training views, validation views) for every fold under ``protocol``."""
    from training.study.experiments import AUGMENT_FIRST, SPLIT_FIRST

    if protocol == SPLIT_FIRST:
        return [split_first_views(val, len(labels), factor) for val in photo_folds(labels, photo_ids, folds, seed)]
    if protocol == AUGMENT_FIRST:
        return augment_first_folds(labels, factor, folds, seed)
    raise ValueError(f"unknown protocol {protocol!r}")


def shared_photos(train_views: np.ndarray, val_views: np.ndarray, photo_ids: Sequence[str]) -> set[str]:
    """Original photos with a view on both sides of a split (empty when the split is clean)."""
    train = {photo_ids[i] for i in np.unique(train_views[:, 0])}
    val = {photo_ids[i] for i in np.unique(val_views[:, 0])}
    return train & val
