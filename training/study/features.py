"""Activations of the frozen part of the network, computed once and reused by every fold.

For a configuration that trains only the head or the top N layers, the layers below its frozen
boundary (see :func:`training.architecture.frozen_boundary`) have ImageNet weights that never
change and run in inference mode, and the study's augmentation is offline (fixed pixels). Their
output for a given image is therefore the same in every fold, every epoch and every such
configuration, so it is computed once per image view, not once per fold or per epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from training.study.data import StudyData


@dataclass
class CachedActivations:
    """Activations at one boundary for every development view, test and field photo."""

    layers: str
    boundary: str
    dev: np.ndarray  # (n_dev, factor, *shape)
    test: np.ndarray
    field: np.ndarray

    def views(self, views: np.ndarray) -> np.ndarray:
        return self.dev[views[:, 0], views[:, 1]]


def trainable_spec(layers: str) -> str | int:
    """``set_trainable_layers``'s argument for a study ``layers`` value ("head", "all" or a count)."""
    return layers if layers in ("head", "all") else int(layers)


def compute_activations(
    data: StudyData,
    layers_values: list[str],
    weights: str | None,
    batch_size: int = 64,
    progress=None,
) -> tuple[dict[str, CachedActivations], float]:
    """Run the frozen part once over every image; returns activations per ``layers`` value and seconds."""
    import keras

    from training.architecture import build_classifier, feature_extractor, frozen_boundary, set_trainable_layers

    started = time.monotonic()
    image_size = data.dev.images.shape[1]
    model = build_classifier(len(data.photos.class_names), image_size, weights=weights)
    boundaries = {}
    for layers in layers_values:
        set_trainable_layers(model, trainable_spec(layers))
        boundaries[layers] = frozen_boundary(model)
    names = sorted(set(boundaries.values()))
    extractor = feature_extractor(model, names)

    def run(images: np.ndarray) -> list[np.ndarray]:
        outputs = [[] for _ in names]
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].astype(np.float32)
            for slot, value in zip(outputs, extractor(batch, training=False), strict=True):
                slot.append(np.asarray(value))
            if progress:
                progress(len(batch))
        return [np.concatenate(slot) if slot else np.zeros((0,)) for slot in outputs]

    n_dev, copies = data.copies.shape[:2]
    originals = run(data.dev.images)
    augmented = run(data.copies.reshape(-1, *data.copies.shape[2:]))
    test = run(data.test.images)
    field = run(data.field.images)
    result = {}
    for layers, boundary in boundaries.items():
        slot = names.index(boundary)
        shape = originals[slot].shape[1:]
        dev = np.empty((n_dev, copies + 1, *shape), dtype=np.float32)
        dev[:, 0] = originals[slot]
        dev[:, 1:] = augmented[slot].reshape(n_dev, copies, *shape)
        result[layers] = CachedActivations(
            layers, boundary, dev, _or_empty(test[slot], shape), _or_empty(field[slot], shape)
        )
    del model
    keras.backend.clear_session()
    return result, time.monotonic() - started


def images_to_extract(data: StudyData) -> int:
    return (
        len(data.dev.images)
        + data.copies.shape[0] * data.copies.shape[1]
        + len(data.test.images)
        + len(data.field.images)
    )


def _or_empty(array: np.ndarray, shape: tuple) -> np.ndarray:
    return array if array.ndim > 1 else np.zeros((0, *shape), dtype=np.float32)
