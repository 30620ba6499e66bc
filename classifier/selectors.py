"""Reads: every query the pages, API and workers make of the classifier's tables."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from classifier import advice as default_advice
from classifier.models import Advice, AdviceStep, ModelVersion, Submission


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


def advice_for(label: str, is_unsure: bool, language: str | None = None) -> default_advice.AdviceText:
    """The advice for an answer in ``language`` (default: the active one), as admins last edited
    it; the code default from ``classifier.advice`` when no row exists."""
    key = default_advice.advice_key(label, is_unsure)
    language = (language or get_language() or "en").lower()
    candidates = [language]
    if "-" in language:
        candidates.append(language.split("-")[0])
    rows = {
        row.language: row
        for row in Advice.objects.filter(label=key, language__in=candidates).prefetch_related(
            Prefetch("steps", queryset=AdviceStep.objects.order_by("position", "id"))
        )
    }
    row = next((rows[code] for code in candidates if code in rows), None)
    if row is None:
        return default_advice.ADVICE[key]
    return default_advice.AdviceText(
        title=row.title,
        summary=row.summary,
        steps=[default_advice.Step(step.text, step.source) for step in row.steps.all()],
    )


def advice_awaiting_review() -> QuerySet[Advice]:
    return Advice.objects.filter(needs_review=True).order_by("language", "label")
