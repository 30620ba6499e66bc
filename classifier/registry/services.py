"""Writes of the model registry: registering a trained model's files, activating a version, rolling back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from classifier.labels.heatmaps import keras_model_name
from classifier.labels.services import sync_label_classes
from classifier.models import ModelVersion, ModelVersionChange
from classifier.registry.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest
from classifier.registry.model_files import path_sha256

logger = logging.getLogger(__name__)


@transaction.atomic
def register_model_version(
    model_dir: Path | str,
    created_by: str,
    metrics: dict | None = None,
    parent: ModelVersion | None = None,
    notes: str = "",
) -> ModelVersion:
    """Copy a model directory's files into media storage and add it as a candidate version.

    ``model.keras``, when the directory has one, is kept beside ``model.tflite`` for heatmaps; the
    model's classes are added to the classes officers can choose.
    """
    manifest = ModelManifest.read(model_dir)
    number = (ModelVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    version = ModelVersion(
        number=number,
        labels=manifest.labels,
        image_size=manifest.image_size,
        reject_label=manifest.reject_label or "",
        decision=manifest.decision or {},
        metrics=metrics or {},
        parent=parent,
        created_by=created_by,
        notes=notes,
    )
    saved: list[str] = []
    try:
        with open(Path(model_dir) / MODEL_FILENAME, "rb") as model_file:
            version.model_file.save(MODEL_FILENAME, File(model_file), save=False)
        saved.append(version.model_file.name)
        version.file_hashes = {version.model_file.name: path_sha256(Path(model_dir) / MODEL_FILENAME)}
        keras_path = Path(model_dir) / KERAS_FILENAME
        if keras_path.exists():  # the Keras form, for Grad-CAM heatmaps on the training worker
            keras_name = keras_model_name(version)
            if default_storage.exists(keras_name):  # left by an earlier database: not this model's
                default_storage.delete(keras_name)
            with open(keras_path, "rb") as keras_file:
                default_storage.save(keras_name, File(keras_file))
            saved.append(keras_name)
            version.file_hashes[keras_name] = path_sha256(keras_path)
        version.save()
        sync_label_classes(version.labels, version.reject_label or None)
    except BaseException:  # the row is rolled back: its files must not stay behind
        for name in saved:
            default_storage.delete(name)
        raise
    return version


@transaction.atomic
def activate_model_version(
    version: ModelVersion,
    action: str = ModelVersionChange.Action.PROMOTE,
    actor: str = "",
    reason: str = "",
    user=None,
) -> ModelVersion:
    """Make ``version`` the one active model, retire the one before it, and log the change.

    Workers notice on their next task (they compare the active version with the one they hold),
    so the switch needs no restart and no request fails.
    """
    previous = (
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.ACTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    if previous is not None:
        ModelVersion.objects.filter(pk=previous.pk).update(status=ModelVersion.Status.RETIRED)
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    ModelVersionChange.objects.create(
        version=version,
        previous=previous,
        action=action,
        user=user,
        actor=actor or (user.get_username() if user else ""),
        reason=reason,
    )
    return version


def roll_back_to(version: ModelVersion, user, reason: str = "") -> ModelVersion:
    """One click: an earlier version serves again."""
    if version.status == ModelVersion.Status.ACTIVE:
        raise ValueError(f"{version} is already active")
    return activate_model_version(version, ModelVersionChange.Action.ROLLBACK, reason=reason or "rollback", user=user)


def ensure_default_model(model_dir: Path | str) -> ModelVersion | None:
    """Register and activate the shipped model when no version exists yet (first start)."""
    if ModelVersion.objects.exists():
        return None
    metrics_path = Path(model_dir) / "metrics.json"
    metrics = {}
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
    version = register_model_version(model_dir, created_by="shipped", metrics=metrics, notes="Shipped default model")
    return activate_model_version(version, ModelVersionChange.Action.SHIPPED, actor="shipped", reason="first start")
