"""Reads of farmers' submissions: for the result page and API, the inference worker and the sweeper."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from classifier.models import (
    Submission,
)


def answer_given_to_farmer() -> Q:
    """Predictions whose answer the farmer was shown as the model's answer: a diagnosis, or "not a potato
    leaf", never "not sure".

    The one place this rule lives: only such an answer may be confirmed in bulk; anything else needs an
    officer's own verdict on the photo's page, so a guess the farmer never saw cannot become "checked".
    """
    return Q(is_unsure=False)


def submission_with_prediction(submission_id: UUID | str) -> Submission | None:
    """One submission with its prediction and model version, in one query."""
    try:
        return Submission.objects.select_related("prediction__model_version").get(pk=submission_id)
    except (Submission.DoesNotExist, ValueError):
        return None


def submission_for_inference(submission_id: UUID | str) -> Submission | None:
    """Just what the worker needs (no joins): status, image, and what predictions copy."""
    return Submission.objects.only("id", "status", "image", "created_at", "district").filter(pk=submission_id).first()


def stale_pending_submission_ids(older_than_seconds: int, limit: int = 500) -> list[UUID]:
    """Pending submissions whose task may have been lost (Redis down at upload, a dead worker)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Submission.objects.filter(status=Submission.Status.PENDING, updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def submission_image_name(submission_id: UUID | str) -> str | None:
    try:
        return Submission.objects.filter(pk=submission_id).values_list("image", flat=True).first()
    except ValueError:
        return None
