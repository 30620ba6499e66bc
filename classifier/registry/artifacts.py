"""A model artifact on disk: ``model.tflite`` beside ``labels.json`` (its manifest), and the Keras
form (``model.keras``) the heatmaps are drawn with.

The Keras file keeps its weights in float16 (half the bytes, the precision the served TFLite file
has anyway) and is read back in float32: :func:`write_keras_model`, :func:`read_keras_model`.
Files written before, in float32, read as they are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MODEL_FILENAME = "model.tflite"
MANIFEST_FILENAME = "labels.json"
KERAS_FILENAME = "model.keras"  # the Keras form, for heatmaps and lineage; not served


def write_keras_model(model, path: Path | str) -> Path:
    """Save an uncompiled model (no optimizer state) with float16 weights."""
    import keras

    half = keras.Model.from_config(_with_dtype_policy(model.get_config(), "float16"))
    half.set_weights([weight.astype("float16") for weight in model.get_weights()])
    half.save(path)
    return Path(path)


def read_keras_model(path: Path | str):
    """The model at ``path``, computing in float32 whatever its weights were stored in."""
    import keras

    model = keras.models.load_model(path, compile=False)
    if all(weight.dtype == "float32" for weight in model.weights):
        return model
    full = keras.Model.from_config(_with_dtype_policy(model.get_config(), "float32"))
    full.set_weights([weight.astype("float32") for weight in model.get_weights()])
    return full


def _with_dtype_policy(config, name: str):
    """A model config with every layer's dtype policy set to ``name``."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and isinstance(config.get("config"), dict):
            return {**config, "config": {**config["config"], "name": name}}
        return {key: _with_dtype_policy(value, name) for key, value in config.items()}
    if isinstance(config, list):
        return [_with_dtype_policy(value, name) for value in config]
    return config


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
