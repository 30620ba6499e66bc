"""Inference runtimes: the engine that runs a model file. Chosen by ``settings.INFERENCE_RUNTIME``."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from classifier.runtimes.base import InferenceRuntime


def load_runtime(model_path: str, runtime_path: str | None = None) -> InferenceRuntime:
    """Instantiate the configured runtime class for ``model_path``."""
    runtime_class = import_string(runtime_path or settings.INFERENCE_RUNTIME)
    return runtime_class(model_path, num_threads=settings.INFERENCE_THREADS)
