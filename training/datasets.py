"""Image folders on disk to labelled arrays and ``tf.data`` pipelines.

A data folder holds one subfolder per class (``early_blight/``, ``healthy/`` ...): the class list
is read from the folders, never written in code. Negatives folders (photos that are not potato
leaves) all map to one reject label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.preprocessing import DEFAULT_IMAGE_SIZE, load_model_input

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass(frozen=True)
class LabelledImage:
    """One photo on disk with its class name and the collection it came from."""

    path: Path
    label: str
    source: str = ""

    @property
    def photo_id(self) -> str:
        """Identity of the original photo: augmented copies share it, so splits keep them together."""
        return self.path.name


@dataclass
class LabelledArrays:
    """Images as a uint8 array (N, size, size, 3) with integer labels into ``class_names``."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    items: list[LabelledImage] = field(default_factory=list)


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def class_folders(data_dir: Path | str) -> list[Path]:
    """The class subfolders of ``data_dir``, sorted by name."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {data_dir}")
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def list_class_images(data_dir: Path | str, source: str = "") -> list[LabelledImage]:
    """Every image under ``data_dir/<class>/``, labelled with its folder's name."""
    items = []
    for folder in class_folders(data_dir):
        for path in sorted(folder.iterdir()):
            if is_image_file(path):
                items.append(LabelledImage(path, folder.name, source or Path(data_dir).name))
    return items


def list_negative_images(negatives_dir: Path | str, reject_label: str) -> list[LabelledImage]:
    """Every image anywhere under ``negatives_dir``, labelled ``reject_label``."""
    negatives_dir = Path(negatives_dir)
    if not negatives_dir.is_dir():
        raise FileNotFoundError(f"negatives folder not found: {negatives_dir}")
    return [
        LabelledImage(path, reject_label, negatives_dir.name)
        for path in sorted(negatives_dir.rglob("*"))
        if is_image_file(path)
    ]


def hash_fraction(key: str, salt: str = "") -> float:
    """A stable number in [0, 1) from ``key``: the same photo always lands on the same side."""
    digest = hashlib.sha256(f"{salt}{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_photo(
    items: Sequence[LabelledImage], holdout_fraction: float, salt: str = "holdout"
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Split into (train, holdout) by original photo, stably across runs and dataset growth."""
    train, holdout = [], []
    for item in items:
        (holdout if hash_fraction(item.photo_id, salt) < holdout_fraction else train).append(item)
    return train, holdout


def load_arrays(
    items: Sequence[LabelledImage],
    class_names: Sequence[str],
    image_size: int = DEFAULT_IMAGE_SIZE,
    workers: int = 2,
) -> LabelledArrays:
    """Decode ``items`` with the serving preprocessing into one uint8 array."""
    index = {name: i for i, name in enumerate(class_names)}
    images = np.zeros((len(items), image_size, image_size, 3), dtype=np.uint8)

    def decode(position: int) -> None:
        images[position] = load_model_input(str(items[position].path), image_size).astype(np.uint8)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(decode, range(len(items))))
    labels = np.array([index[item.label] for item in items], dtype=np.int32)
    return LabelledArrays(images, labels, list(class_names), list(items))


def class_names_of(items: Iterable[LabelledImage]) -> list[str]:
    return sorted({item.label for item in items})


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    shuffle: bool,
    augment: bool = False,
    sample_weights: np.ndarray | None = None,
    seed: int = 0,
):
    """A batched, prefetched ``tf.data`` pipeline over in-memory arrays."""
    import tensorflow as tf

    from training.augmentation import augmentation_layers

    tensors = (images, labels) if sample_weights is None else (images, labels, sample_weights)
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment:
        augmenter = augmentation_layers(seed)

        def apply(batch_images, *rest):
            return (augmenter(tf.cast(batch_images, tf.float32), training=True), *rest)

        dataset = dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(lambda x, *rest: (tf.cast(x, tf.float32), *rest))
    return dataset.prefetch(tf.data.AUTOTUNE)
