"""Reads of farmers' cases: for the result page and API, the inference worker and the sweeper."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from classifier.decision import AnswerKind
from classifier.models import (
    Photo,
    Submission,
)


def answer_given_to_farmer() -> Q:
    """Predictions whose answer the farmer was shown as the model's answer: a diagnosis, or "not a potato
    leaf"; never "not sure", nor "one of two" (no single label was given).

    The one place this rule lives: only such an answer may be confirmed in bulk; anything else needs an
    officer's own verdict on the case's page, so a guess the farmer never saw cannot become "checked".
    """
    return Q(answer_kind__in=ANSWERS_GIVEN)


#: The answer kinds that gave the farmer one label (``answer_given_to_farmer``).
ANSWERS_GIVEN = (AnswerKind.DIAGNOSIS, AnswerKind.NOT_POTATO_LEAF)


def was_given_to_farmer(prediction) -> bool:
    """``answer_given_to_farmer`` for one prediction already read."""
    return prediction.answer_kind in ANSWERS_GIVEN


def submission_with_prediction(submission_id: UUID | str) -> Submission | None:
    """One case with its prediction and model version (one query), and its photos (one more)."""
    try:
        return (
            Submission.objects.select_related("prediction__model_version")
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("position")))
            .get(pk=submission_id)
        )
    except (Submission.DoesNotExist, ValueError):
        return None


def case_status(submission_id: UUID | str) -> str | None:
    """A case's status alone (one indexed read: what a request waiting for its answer asks)."""
    return Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first()


def submission_for_inference(submission_id: UUID | str) -> Submission | None:
    """Just what the worker needs (no joins): status, and what predictions copy."""
    return Submission.objects.only("id", "status", "created_at", "district").filter(pk=submission_id).first()


def usable_photos(submission_id: UUID | str) -> QuerySet[Photo]:
    """The photos of a case its answer combines (officers' unusable ones left out), in order."""
    return Photo.objects.filter(submission_id=submission_id, is_unusable=False).order_by("position")


def stale_pending_submission_ids(older_than_seconds: int, limit: int = 500) -> list[UUID]:
    """Pending submissions whose task may have been lost (Redis down at upload, a dead worker)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Submission.objects.filter(status=Submission.Status.PENDING, updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def photo_image_name(submission_id: UUID | str, position: int = 0) -> str | None:
    """The stored image of one photo of a case (the first by default)."""
    try:
        return (
            Photo.objects.filter(submission_id=submission_id, position=position).values_list("image", flat=True).first()
        )
    except ValueError:
        return None


def officer_photo_name(submission_id: UUID | str, position: int = 0) -> str | None:
    """The copy officers look at: the larger one once it has arrived, else the one the model read."""
    try:
        row = Photo.objects.filter(submission_id=submission_id, position=position).values("image", "original").first()
    except ValueError:
        return None
    return (row["original"] or row["image"]) if row else None


def photo_id(submission_id: UUID | str, position: int) -> int | None:
    return Photo.objects.filter(submission_id=submission_id, position=position).values_list("pk", flat=True).first()
