"""Turning a submission into what the pages and the API show."""

from __future__ import annotations

from django.urls import reverse

from classifier.advice import display_name
from classifier.models import Submission
from classifier.selectors import advice_for


def prediction_dict(submission: Submission) -> dict | None:
    prediction = getattr(submission, "prediction", None) if submission.status == Submission.Status.DONE else None
    if prediction is None:
        return None
    return {
        "label": prediction.label,
        "display_name": display_name(prediction.label),
        "confidence": round(prediction.confidence, 4),
        "top": prediction.top,
        "is_potato_leaf": prediction.is_potato_leaf,
        "is_unsure": prediction.is_unsure,
        "model_version": prediction.model_version.number,
    }


def submission_dict(submission: Submission) -> dict:
    """The JSON form of a submission (``GET /api/v1/submissions/<id>``)."""
    return {
        "id": str(submission.id),
        "status": submission.status,
        "url": reverse("submission", args=[submission.id]),
        "district": submission.district,
        "created_at": submission.created_at.isoformat(),
        "prediction": prediction_dict(submission),
        "error": submission.error or None,
    }


def present_submission(submission: Submission) -> dict:
    """Context for the result page: the answer, the advice, and the top three."""
    prediction = prediction_dict(submission)
    context = {"submission": submission, "prediction": prediction}
    if prediction:
        context["advice"] = advice_for(prediction["label"], prediction["is_unsure"])
        context["top"] = [
            {"name": display_name(entry["label"]), "percent": round(100 * entry["confidence"])}
            for entry in prediction["top"]
        ]
        context["percent"] = round(100 * prediction["confidence"])
    return context
