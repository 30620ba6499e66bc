"""Writes: storing submissions, recording predictions, registering and activating model versions."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from uuid import UUID

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from classifier.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest
from classifier.decision import Diagnosis
from classifier.heatmaps import keras_model_name
from classifier.labelling import sync_label_classes
from classifier.model_files import path_sha256
from classifier.models import ModelVersion, ModelVersionChange, Prediction, Submission
from classifier.validators import CleanPhoto

logger = logging.getLogger(__name__)


def create_submission(photo: CleanPhoto, district: str = "", phone: str = "", language: str = "") -> Submission:
    """Store the row and the image together, then enqueue inference once the row is committed.

    ``phone`` (optional) is where the officer's verdict goes by SMS, in ``language``. If the
    database write fails the stored file is removed, so no orphan files are left.
    """
    submission = Submission(
        district=district, phone=phone or "", language=language, width=photo.width, height=photo.height
    )
    submission.image.save(f"{submission.id}.jpg", ContentFile(photo.content), save=False)
    try:
        with transaction.atomic():
            submission.save(force_insert=True)
            transaction.on_commit(lambda: enqueue_inference(submission.id))
    except Exception:
        submission.image.delete(save=False)
        raise
    return submission


def enqueue_inference(submission_id: UUID) -> bool:
    """Publish the inference task; if the broker is down, leave the submission for the sweeper."""
    from classifier.tasks import diagnose_submission

    try:
        diagnose_submission.apply_async(args=[str(submission_id)])
    except Exception:  # kombu raises many kinds of connection errors
        logger.warning("could not enqueue submission %s; the sweeper will retry", submission_id, exc_info=True)
        return False
    Submission.objects.filter(pk=submission_id).update(enqueue_count=F("enqueue_count") + 1, updated_at=timezone.now())
    return True


def record_prediction(submission: Submission, version: ModelVersion, diagnosis: Diagnosis, inference_ms: float) -> bool:
    """Save the prediction once; returns whether this call saved it.

    The first delivery's insert wins (the prediction's key is the submission's); a redelivered
    task inserts nothing and finds no pending submission to complete. Two statements, no locks.
    The prediction carries copies of the upload time and district for the officers' reports.
    """
    submission_id = submission.pk
    now = timezone.now()
    with transaction.atomic():
        Prediction.objects.bulk_create(
            [
                Prediction(
                    submission_id=submission_id,
                    model_version=version,
                    label=diagnosis.label,
                    confidence=diagnosis.confidence,
                    margin=diagnosis.margin,
                    top=diagnosis.top,
                    is_potato_leaf=diagnosis.is_potato_leaf,
                    is_unsure=diagnosis.is_unsure,
                    inference_ms=inference_ms,
                    submitted_at=submission.created_at,
                    district=submission.district,
                    queue_key=review_queue_key(
                        diagnosis.is_unsure, diagnosis.is_potato_leaf, diagnosis.confidence, submission.created_at
                    ),
                )
            ],
            ignore_conflicts=True,
        )
        completed = Submission.objects.filter(pk=submission_id, status=Submission.Status.PENDING).update(
            status=Submission.Status.DONE, completed_at=now, error="", updated_at=now
        )
    return bool(completed)


#: Keys of photos whose farmer got no diagnosis sit below every confidence (0..1): upload times,
#: shifted far below zero, so the oldest comes first.
_NO_DIAGNOSIS_OFFSET = 1e11


def review_queue_key(is_unsure: bool, is_potato_leaf: bool, confidence: float, submitted_at: datetime) -> float:
    """Where a prediction sits in the officers' queue (ascending).

    A farmer told "not sure" or "not a potato leaf" has no answer until an officer gives one: those
    photos come first, oldest first. The rest follow least certain first.
    """
    if is_unsure or not is_potato_leaf:
        return submitted_at.timestamp() - _NO_DIAGNOSIS_OFFSET
    return float(confidence)


def mark_submission_failed(submission_id: UUID | str, error: str) -> None:
    Submission.objects.filter(pk=submission_id, status=Submission.Status.PENDING).update(
        status=Submission.Status.FAILED, error=error[:2000], completed_at=timezone.now()
    )


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
