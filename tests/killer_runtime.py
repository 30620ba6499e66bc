"""A runtime that kills its worker process on one kind of photo, as a photo that crashes the
model's native code (or exhausts memory) would.

Chosen through the INFERENCE_RUNTIME setting, like any runtime. A photo whose centre is pure
magenta ends the process with ``os._exit`` (no cleanup, no exception for Celery to catch), leaving a
marker file in KILLER_RUNTIME_MARKERS each time; every other photo is diagnosed as usual.
"""

import os
import uuid
from pathlib import Path

import numpy as np

from classifier.runtimes.litert import LiteRTRuntime

MAGENTA = (255, 0, 255)


def is_killer(images: np.ndarray) -> bool:
    red, green, blue = images[0].reshape(-1, 3).mean(axis=0)
    return red > 230 and green < 25 and blue > 230


class KillerRuntime(LiteRTRuntime):
    def predict(self, images):
        if is_killer(images):
            markers = Path(os.environ["KILLER_RUNTIME_MARKERS"])
            markers.mkdir(parents=True, exist_ok=True)
            (markers / f"{os.getpid()}-{uuid.uuid4().hex}").write_text(str(os.getpid()))
            os._exit(70)
        return super().predict(images)
