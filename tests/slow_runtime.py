"""A runtime that takes its time, so a test can kill a worker in the middle of inference.

Chosen through the INFERENCE_RUNTIME setting, like any runtime. Each call leaves a marker file
in SLOW_RUNTIME_MARKERS, so the test knows inference has started and how often it ran, then holds
until the file SLOW_RUNTIME_RELEASE exists (the test has done what it does mid-inference) or at
most SLOW_RUNTIME_SECONDS.
"""

import os
import time
import uuid
from pathlib import Path

from classifier.runtimes.litert import LiteRTRuntime


class SlowRuntime(LiteRTRuntime):
    def predict(self, images):
        markers = Path(os.environ["SLOW_RUNTIME_MARKERS"])
        markers.mkdir(parents=True, exist_ok=True)
        (markers / f"{os.getpid()}-{uuid.uuid4().hex}").write_text(str(os.getpid()))
        release = Path(os.environ["SLOW_RUNTIME_RELEASE"])
        deadline = time.monotonic() + float(os.environ.get("SLOW_RUNTIME_SECONDS", "3"))
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().predict(images)
