"""Writes and reads for Grad-CAM heatmaps: where the model looked on a photo.

The heatmap is computed by :func:`classifier.tasks.compute_heatmap` on the ``training`` queue,
whose worker may import TensorFlow; the web process and the inference worker never do. It needs
the Keras form of the model: ``model.keras`` in the model directory, which registration stores
beside the version's ``model.tflite`` (``models/v<N>/model.keras``). A version without one simply
has no heatmaps.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import PurePosixPath
from uuid import UUID

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from classifier.models import Heatmap, ModelVersion, Submission

logger = logging.getLogger(__name__)


#: A pending heatmap older than this is asked for again (its task may have been lost).
RETRY_AFTER = timedelta(minutes=5)


def keras_model_name(version: ModelVersion) -> str:
    """Storage name of the version's Keras model: its TFLite file's name with ``.keras``."""
    return str(PurePosixPath(version.model_file.name).with_suffix(".keras"))


def has_keras_model(version: ModelVersion) -> bool:
    return bool(version.model_file.name) and default_storage.exists(keras_model_name(version))


def heatmap_state(submission: Submission) -> str:
    """``unavailable`` (no Keras model for the version), ``none`` (not asked yet), or the row's status.

    ``submission`` comes from :func:`classifier.labels.selectors.submission_for_review` (prediction, version
    and heatmap already joined).
    """
    prediction = getattr(submission, "prediction", None)
    if prediction is None or not has_keras_model(prediction.model_version):
        return "unavailable"
    heatmap = getattr(submission, "heatmap", None)
    return heatmap.status if heatmap is not None else "none"


def request_heatmap(submission: Submission) -> Heatmap | None:
    """Ask the training worker for a heatmap once; again only if the last request looks lost or failed."""
    prediction = getattr(submission, "prediction", None)
    if prediction is None or not has_keras_model(prediction.model_version):
        return None
    now = timezone.now()
    with transaction.atomic():
        heatmap, created = Heatmap.objects.get_or_create(
            submission=submission, defaults={"model_version": prediction.model_version, "requested_at": now}
        )
        stale = heatmap.status == Heatmap.Status.PENDING and heatmap.requested_at < now - RETRY_AFTER
        if not (created or stale or heatmap.status == Heatmap.Status.FAILED):
            return heatmap
        if not created:
            Heatmap.objects.filter(pk=heatmap.pk).update(status=Heatmap.Status.PENDING, requested_at=now, error="")
            heatmap.status, heatmap.requested_at, heatmap.error = Heatmap.Status.PENDING, now, ""
        transaction.on_commit(lambda: enqueue_heatmap(submission.pk))
    return heatmap


def enqueue_heatmap(submission_id: UUID | str) -> bool:
    from classifier.tasks import compute_heatmap

    try:
        compute_heatmap.apply_async(args=[str(submission_id)])
    except Exception:  # kombu raises many kinds of connection errors
        logger.warning("could not enqueue heatmap for %s; asking again later retries", submission_id, exc_info=True)
        return False
    return True


def record_heatmap(submission_id: UUID | str, jpeg: bytes) -> Heatmap:
    heatmap = Heatmap.objects.select_related("model_version").get(pk=submission_id)
    if heatmap.image:
        heatmap.image.delete(save=False)
    heatmap.image.save(f"{submission_id}.jpg", ContentFile(jpeg), save=False)
    heatmap.status = Heatmap.Status.DONE
    heatmap.error = ""
    heatmap.completed_at = timezone.now()
    heatmap.save(update_fields=["image", "status", "error", "completed_at"])
    return heatmap


def mark_heatmap_failed(submission_id: UUID | str, error: str) -> None:
    Heatmap.objects.filter(pk=submission_id).update(
        status=Heatmap.Status.FAILED, error=error[:2000], completed_at=timezone.now()
    )
