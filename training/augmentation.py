"""Random changes a phone photo in the field could show: turned, flipped, zoomed, darker."""

from __future__ import annotations


def augmentation_layers(seed: int = 0):
    """A Keras ``Sequential`` of random image changes, active only with ``training=True``."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal_and_vertical", seed=seed),
            layers.RandomRotation(0.15, fill_mode="reflect", seed=seed),
            layers.RandomZoom((-0.2, 0.1), fill_mode="reflect", seed=seed),
            layers.RandomBrightness(0.2, value_range=(0, 255), seed=seed),
            layers.RandomContrast(0.2, seed=seed),
        ],
        name="augmentation",
    )


def augmented_copies(images, copies: int, seed: int = 0, batch_size: int = 64):
    """``copies`` randomly changed versions of every image, made once (offline), as uint8.

    Returns an array of shape (N, copies, size, size, 3). The same images, ``copies`` and ``seed``
    give the same copies, so a resumed study sees the pixels it saw before.
    """
    import numpy as np
    import tensorflow as tf

    out = np.empty((len(images), copies, *images.shape[1:]), dtype=np.uint8)
    for copy in range(copies):
        augmenter = augmentation_layers(seed + 1000 * (copy + 1))
        for start in range(0, len(images), batch_size):
            batch = tf.cast(images[start : start + batch_size], tf.float32)
            changed = augmenter(batch, training=True)
            out[start : start + batch_size, copy] = np.clip(np.rint(changed.numpy()), 0, 255).astype(np.uint8)
    return out
