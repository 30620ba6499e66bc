"""Reads of the advice a farmer is shown: admins' edits in the farmer's language, else the code defaults."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import get_language

from classifier.advice import defaults as default_advice
from classifier.models import (
    Advice,
    AdviceStep,
)


def advice_for(label: str, is_unsure: bool, language: str | None = None) -> default_advice.AdviceText:
    """The advice for an answer in ``language`` (default: the active one), as admins last edited
    it; the code default from ``classifier.advice.defaults`` when no row exists."""
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
