"""Writes of farmers' submissions: storing a photo, enqueueing its inference, recording the prediction."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from classifier.decision import Diagnosis
from classifier.models import ModelVersion, Prediction, Submission
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


def start_inference_attempt(submission_id: UUID | str) -> int | None:
    """Count one more run of the model on a pending submission, committed before the run starts.

    Returns the run's number, or None when the submission is no longer pending. A run that kills
    its worker is never recorded otherwise: its task is delivered again at once
    (``reject_on_worker_lost``), so this count is what stops a photo that kills every worker.
    """
    counted = Submission.objects.filter(pk=submission_id, status=Submission.Status.PENDING).update(
        inference_attempts=F("inference_attempts") + 1
    )
    if not counted:
        return None
    return Submission.objects.filter(pk=submission_id).values_list("inference_attempts", flat=True).first()


def give_up_inference(submission_id: UUID | str, runs: int) -> None:
    """Mark a submission whose every run ended without a prediction as failed, saying why (the admin shows it)."""
    mark_submission_failed(
        submission_id,
        f"Not diagnosed: the inference worker stopped (killed, out of memory or crashed) during each of "
        f"{runs} runs on this photo, so it was not tried again (MAX_INFERENCE_ATTEMPTS).",
    )


def mark_submission_failed(submission_id: UUID | str, error: str) -> None:
    Submission.objects.filter(pk=submission_id, status=Submission.Status.PENDING).update(
        status=Submission.Status.FAILED, error=error[:2000], completed_at=timezone.now()
    )
