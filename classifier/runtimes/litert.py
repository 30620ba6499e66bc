"""The serving runtime: LiteRT (TFLite) without TensorFlow, about 60 MiB and 0.15 s to start."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter


class LiteRTRuntime:
    """A TFLite interpreter held for the life of the process; one image per ``invoke``."""

    def __init__(self, model_path: str, num_threads: int = 1) -> None:
        self.interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self.image_size = int(self._input["shape"][1])

    def predict(self, images: np.ndarray) -> np.ndarray:
        outputs = []
        for image in np.asarray(images, dtype=np.float32).reshape(-1, self.image_size, self.image_size, 3):
            self.interpreter.set_tensor(self._input["index"], image[np.newaxis])
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(self._output["index"])[0].copy())
        return np.stack(outputs)
