"""Running a model on a photo: a :class:`Predictor` per model, loaded once per worker process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np
from django.conf import settings

from classifier.decision import DecisionRule, Diagnosis, diagnose, diagnose_case
from classifier.preprocessing import load_model_input, load_model_input_views
from classifier.registry.artifacts import MODEL_FILENAME, ModelManifest
from classifier.registry.model_files import local_copy
from classifier.runtimes import load_runtime

logger = logging.getLogger(__name__)


class Predictor:
    """A loaded model with its labels: photo in, :class:`Diagnosis` out."""

    def __init__(self, model_path: Path | str, manifest: ModelManifest, runtime_path: str | None = None) -> None:
        self.manifest = manifest
        self.runtime = load_runtime(str(model_path), runtime_path)

    @classmethod
    def from_directory(cls, model_dir: Path | str, runtime_path: str | None = None) -> Predictor:
        """A model directory as training writes it: ``model.tflite`` beside ``labels.json``."""
        return cls(Path(model_dir) / MODEL_FILENAME, ModelManifest.read(model_dir), runtime_path)

    @classmethod
    def for_version(cls, version) -> Predictor:
        """A registered model version, from its stored file and label set."""
        manifest = ModelManifest(
            list(version.labels), version.image_size, version.reject_label or None, version.decision or None
        )
        return cls(local_model_path(version), manifest)

    @property
    def labels(self) -> list[str]:
        return self.manifest.labels

    def probabilities(self, source: str | BinaryIO) -> np.ndarray:
        """The model's output for one photo: one row, or one per test-time view (views x classes) when
        the model's rule reads the photo with several (``DecisionRule.views``)."""
        views = tuple(self.rule.views or ())
        if len(views) > 1:
            return self.runtime.predict(load_model_input_views(source, self.manifest.image_size, views))
        image = load_model_input(source, self.manifest.image_size)
        return self.runtime.predict(image[np.newaxis])[0]

    @property
    def rule(self) -> DecisionRule:
        """The model's fitted decision rule, or the old one (``CLASSIFIER_UNSURE_BELOW``)."""
        return DecisionRule.from_dict(self.manifest.decision, settings.CLASSIFIER_UNSURE_BELOW)

    def predict(self, source: str | BinaryIO) -> Diagnosis:
        return diagnose(self.probabilities(source), self.manifest.labels, self.manifest.reject_label, self.rule)

    def predict_case(self, sources: list[str | BinaryIO]) -> Diagnosis:
        """One answer for a case's photos (one model run each), combined by the rule."""
        probabilities = [self.probabilities(source) for source in sources]
        return diagnose_case(probabilities, self.manifest.labels, self.manifest.reject_label, self.rule)


_cache_lock = threading.Lock()
_cached: dict[str, tuple[tuple[int, str], Predictor]] = {}


def predictor_for(version) -> Predictor:
    """The process's predictor for a model version, loaded the first time it is asked for.

    One model is kept: when the active version changes, the next task loads the new one and
    the old one is dropped, so workers follow a promotion or rollback without a restart.
    """
    with _cache_lock:
        cached = _cached.get("active")
        key = (version.pk, version.model_file.name)
        if cached is None or cached[0] != key:
            logger.info("loading model version %s", version)
            _cached["active"] = (key, Predictor.for_version(version))
        return _cached["active"][1]


def local_model_path(version) -> Path:
    """A path the runtime can open: the stored file itself, or one cached copy (remote storage)."""
    return local_copy(version, version.model_file.name)
