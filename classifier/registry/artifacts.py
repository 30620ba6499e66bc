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
    """What a model file needs beside it: its class names, in output order, input size, and the
    decision rule fitted for it (``classifier.decision.DecisionRule`` as a dict; ``None``: the old rule)."""

    labels: list[str]
    image_size: int
    reject_label: str | None = None
    decision: dict | None = None

    def to_json(self) -> str:
        data = {"labels": self.labels, "image_size": self.image_size, "reject_label": self.reject_label}
        if self.decision:
            data["decision"] = self.decision
        return json.dumps(data, indent=2)

    @classmethod
    def read(cls, directory: Path | str) -> ModelManifest:
        data = json.loads((Path(directory) / MANIFEST_FILENAME).read_text())
        return cls(list(data["labels"]), int(data["image_size"]), data.get("reject_label"), data.get("decision"))

    def write(self, directory: Path | str) -> Path:
        path = Path(directory) / MANIFEST_FILENAME
        path.write_text(self.to_json() + "\n")
        return path
