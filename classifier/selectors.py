"""Reads: every query the pages, API and workers make of the classifier's tables."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from classifier.models import ModelVersion, Submission


def submission_with_prediction(submission_id: UUID | str) -> Submission | None:
    """One submission with its prediction and model version, in one query."""
    try:
        return Submission.objects.select_related("prediction__model_version").get(pk=submission_id)
    except (Submission.DoesNotExist, ValueError):
        return None


def submission_for_inference(submission_id: UUID | str) -> Submission | None:
    """Just what the worker needs: status and image (no joins)."""
    return Submission.objects.only("id", "status", "image").filter(pk=submission_id).first()


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.all()


def stale_pending_submission_ids(older_than_seconds: int, limit: int = 500) -> list[UUID]:
    """Pending submissions whose task may have been lost (Redis down at upload, a dead worker)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Submission.objects.filter(status=Submission.Status.PENDING, updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
