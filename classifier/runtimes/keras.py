"""A Keras runtime for ``.keras`` files: for training-side checks, never the inference worker."""

from __future__ import annotations

import numpy as np


class KerasRuntime:
    def __init__(self, model_path: str, num_threads: int = 1) -> None:
        import keras

        self.model = keras.models.load_model(model_path)
        self.image_size = int(self.model.input_shape[1])

    def predict(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(np.asarray(images, dtype=np.float32), training=False))
