"""Turning a submission into what the pages and the API show."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from classifier.advice.defaults import display_name
from classifier.advice.selectors import advice_for
from classifier.classes import HEALTHY, NOT_POTATO_LEAF, UNUSABLE
from classifier.models import Prediction, Submission

TONES = {UNUSABLE: "unsure", NOT_POTATO_LEAF: "unsure", HEALTHY: "healthy"}  # the answer box's colour


def _prediction(submission: Submission) -> Prediction | None:
    return getattr(submission, "prediction", None) if submission.status == Submission.Status.DONE else None


def prediction_dict(submission: Submission) -> dict | None:
    prediction = _prediction(submission)
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


def answer_dict(submission: Submission) -> dict | None:
    """What the farmer was told, apart from the model's raw output (``prediction``): a ``diagnosis``,
    ``not_potato_leaf``, or ``not_sure`` (no label: the model's leaning is not an answer)."""
    prediction = _prediction(submission)
    if prediction is None:
        return None
    if prediction.is_unsure:
        kind, labels = "not_sure", []
    elif not prediction.is_potato_leaf:
        kind, labels = "not_potato_leaf", [prediction.label]
    else:
        kind, labels = "diagnosis", [prediction.label]
    title = advice_for(prediction.label, prediction.is_unsure).title
    return {"kind": kind, "labels": labels, "title": str(title), "photos": 1}


def review_dict(submission: Submission) -> dict | None:
    """The officer's current answer, titled in the active language; None until an officer answers."""
    prediction = _prediction(submission)
    if prediction is None or prediction.review_status == Prediction.ReviewStatus.UNREVIEWED:
        return None
    label = prediction.reviewed_label
    return {
        "label": label or UNUSABLE,
        "title": str(advice_for(label, False).title) if label else _("Your photo could not be used"),
        "reviewed_at": prediction.reviewed_at.isoformat() if prediction.reviewed_at else None,
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
        "answer": answer_dict(submission),
        "review": review_dict(submission),
        "error": submission.error or None,
    }


def present_submission(submission: Submission) -> dict:
    """Context for the result page: the officer's answer when there is one, then the model's,
    each with its advice, and the model's top three."""
    prediction = prediction_dict(submission)
    review = review_dict(submission)
    context = {"submission": submission, "prediction": prediction, "review": review}
    if review:
        context["reviewed_at"] = _prediction(submission).reviewed_at
        context["review_tone"] = TONES.get(review["label"], "sick")
        if review["label"] != UNUSABLE:
            context["review_advice"] = advice_for(review["label"], False)
    if prediction:
        context["advice"] = advice_for(prediction["label"], prediction["is_unsure"])
        context["no_diagnosis"] = prediction["is_unsure"] or not prediction["is_potato_leaf"]
        context["tone"] = "unsure" if context["no_diagnosis"] else TONES.get(prediction["label"], "sick")
        context["top"] = [
            {"name": display_name(entry["label"]), "percent": round(100 * entry["confidence"])}
            for entry in prediction["top"]
        ]
        context["percent"] = round(100 * prediction["confidence"])
    return context
