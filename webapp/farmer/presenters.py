"""Turning a case into what the pages and the API show."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from classifier.advice.defaults import EARLY_OR_LATE_BLIGHT, FIELD_CHECKS, display_name, field_check_for
from classifier.advice.selectors import advice_for
from classifier.classes import HEALTHY, NOT_POTATO_LEAF, UNUSABLE
from classifier.decision import MAX_CASE_PHOTOS, AnswerKind
from classifier.models import CheckAnswer, Prediction, Submission
from classifier.submissions.services import rule_of

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


def answer_advice(prediction: Prediction):
    """The advice for what the farmer was told: the answer's label, the blight pair's shared advice, or
    "not sure" (the model's leaning is not an answer)."""
    if prediction.answer_kind == AnswerKind.ONE_OF:
        return advice_for(EARLY_OR_LATE_BLIGHT, False)
    return advice_for(prediction.label, prediction.answer_kind == AnswerKind.NOT_SURE)


def answer_dict(submission: Submission) -> dict | None:
    """What the farmer was told, apart from the model's raw output (``prediction``): a ``diagnosis``
    (one label), ``one_of`` (the blight pair), ``not_potato_leaf``, or ``not_sure`` (no label), over
    ``photos`` photos of the case."""
    prediction = _prediction(submission)
    if prediction is None:
        return None
    return {
        "kind": prediction.answer_kind,
        "labels": list(prediction.answer_labels),
        "title": str(answer_advice(prediction).title),
        "photos": prediction.photo_count,
    }


def review_dict(submission: Submission) -> dict | None:
    """The officer's current answer, titled in the active language; None until an officer answers. Shown
    whatever the case's status: an officer's word stands while a changed photo is diagnosed again."""
    prediction = getattr(submission, "prediction", None)
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
        "photos": len(submission.photos.all()),
        "prediction": prediction_dict(submission),
        "answer": answer_dict(submission),
        "review": review_dict(submission),
        "error": submission.error or None,
    }


def present_check(submission: Submission, prediction: Prediction) -> dict | None:
    """The check the farmer can do herself for this answer, with her answer and the advice it leads to."""
    name = field_check_for(prediction.answer_labels)
    if not name:
        return None
    answer = submission.field_check_answer if submission.field_check == name else ""
    branch = FIELD_CHECKS[name]["branches"].get(answer) if answer else None
    return {
        "name": name,
        "advice": advice_for(FIELD_CHECKS[name]["advice"], False),
        "answer": answer,
        "answer_display": dict(CHECK_CHOICES).get(answer, ""),
        "choices": CHECK_CHOICES,
        "branch_advice": advice_for(branch, False) if branch else None,
    }


CHECK_CHOICES = [(CheckAnswer.YES, _("Yes")), (CheckAnswer.NO, _("No")), (CheckAnswer.CANT_TELL, _("I can't tell"))]


def present_submission(submission: Submission) -> dict:
    """Context for the result page: the case's photos; the officer's answer when there is one, then the
    model's, each with its advice (the branch of the farmer's own check when she answered one), and the
    model's top three when it gave a diagnosis."""
    prediction = prediction_dict(submission)
    review = review_dict(submission)
    photos = list(submission.photos.all())
    context = {"submission": submission, "prediction": prediction, "review": review, "photos": photos}
    if review:
        context["reviewed_at"] = submission.prediction.reviewed_at
        context["review_tone"] = TONES.get(review["label"], "sick")
        if review["label"] != UNUSABLE:
            context["review_advice"] = advice_for(review["label"], False)
    if prediction:
        stored = _prediction(submission)
        kind = stored.answer_kind
        context["kind"] = kind
        context["advice"] = answer_advice(stored)
        context["no_diagnosis"] = kind != AnswerKind.DIAGNOSIS
        context["tone"] = (
            "sick"
            if kind == AnswerKind.ONE_OF
            else ("unsure" if context["no_diagnosis"] else TONES.get(prediction["label"], "sick"))
        )
        context["top"] = [
            {"name": display_name(entry["label"]), "percent": round(100 * entry["confidence"])}
            for entry in prediction["top"]
        ]
        context["percent"] = round(100 * prediction["confidence"])
        # A percentage only for one photo's diagnosis: a case's combined probability is not how often such
        # answers are right (its thresholds were fitted on held-out cases; docs/model.md, "How it answers").
        context["show_percent"] = kind == AnswerKind.DIAGNOSIS and stored.photo_count == 1
        if not review:
            context["check"] = present_check(submission, stored)
            if context["check"] and context["check"]["branch_advice"]:
                context["advice_steps"] = context["check"]["branch_advice"]
            # Another leaf only where it can change the answer: a rule that never answers makes it pointless.
            context["can_add_photo"] = (
                kind == AnswerKind.NOT_SURE
                and len(photos) < MAX_CASE_PHOTOS
                and not rule_of(stored.model_version).never_sure
            )
    context.setdefault("advice_steps", context.get("advice"))
    return context
