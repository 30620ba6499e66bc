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
