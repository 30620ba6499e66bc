"""What an inference runtime is: a model file in, class probabilities for a batch of images out."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class InferenceRuntime(Protocol):
    """Runs one model file: a batch of (size, size, 3) float32 images in, class probabilities out."""

    image_size: int

    def __init__(self, model_path: str, num_threads: int = 1) -> None: ...

    def predict(self, images: np.ndarray) -> np.ndarray:
        """``images``: (N, size, size, 3) float32 in [0, 255]; returns (N, classes) probabilities."""
        ...
