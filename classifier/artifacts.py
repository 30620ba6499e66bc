"""A model artifact on disk: ``model.tflite`` beside ``labels.json`` (its manifest)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MODEL_FILENAME = "model.tflite"
MANIFEST_FILENAME = "labels.json"
KERAS_FILENAME = "model.keras"  # the Keras form, for heatmaps and lineage; not served


@dataclass(frozen=True)
class ModelManifest:
    """What a model file needs beside it: its class names, in output order, and input size."""

    labels: list[str]
    image_size: int
    reject_label: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {"labels": self.labels, "image_size": self.image_size, "reject_label": self.reject_label},
            indent=2,
        )

    @classmethod
    def read(cls, directory: Path | str) -> ModelManifest:
        data = json.loads((Path(directory) / MANIFEST_FILENAME).read_text())
        return cls(list(data["labels"]), int(data["image_size"]), data.get("reject_label"))

    def write(self, directory: Path | str) -> Path:
        path = Path(directory) / MANIFEST_FILENAME
        path.write_text(self.to_json() + "\n")
        return path
