"""Writes for officers' labels: confirm, correct or reject a submission; the classes they may choose.

Labels are append-only. A new verdict on a submission adds a row that ``replaces`` the current one;
the old row only stops being current. Who, when and what was replaced are therefore always known,
and the current rows are the labelled data retraining learns from. In the same transaction the
prediction's ``review_status``, ``reviewed_label`` and ``reviewed_at`` are set to match the
current row (the dashboard's queue and reports, and the farmer's page, read those), and
``answered_at`` keeps the first verdict's time. A farmer who left a number gets the verdict by
SMS (``classifier.sms``), sent after the transaction commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from classifier.advice.defaults import display_name
from classifier.models import Label, LabelClass, Prediction, Submission
from classifier.sms.services import schedule_verdict_sms
from classifier.submissions.selectors import answer_given_to_farmer

REVIEW_STATUS_OF_ACTION = {
    Label.Action.CONFIRM: Prediction.ReviewStatus.CONFIRMED,
    Label.Action.CORRECT: Prediction.ReviewStatus.CORRECTED,
    Label.Action.REJECT: Prediction.ReviewStatus.REJECTED,
}
LABEL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
BULK_CONFIRM_LIMIT = 200
REJECT_DISPLAY_NAME = "Not a potato leaf"


class LabellingError(ValueError):
    """A verdict that cannot be recorded; the message is shown to the officer."""


def reject_label_name() -> str:
    """The class that means 'not a potato leaf'."""
    name = LabelClass.objects.filter(is_reject=True).values_list("name", flat=True).first()
    return name or settings.REJECT_LABEL


def sync_label_classes(labels: Iterable[str], reject_label: str | None = None) -> list[LabelClass]:
    """Add the classes a model knows that the label table lacks (called when a model is registered).

    Their names are the dashboard's, in English, whatever language the thread was left in (a farmer's
    ``?lang=rw`` request before a registration in the same thread stored Kinyarwanda names)."""
    known = set(LabelClass.objects.values_list("name", flat=True))
    with translation.override(settings.LANGUAGE_CODE):
        missing = [
            LabelClass(
                name=name,
                display_name=REJECT_DISPLAY_NAME if name == reject_label else display_name(name),
                is_reject=(name == reject_label),
            )
            for name in labels
            if name not in known
        ]
    return LabelClass.objects.bulk_create(missing)


def add_label_class(name: str, display: str = "", created_by=None) -> LabelClass:
    """An admin adds a class the models do not know yet (e.g. ``bacterial_wilt``)."""
    name = name.strip().lower()
    if not LABEL_NAME_PATTERN.match(name):
        raise LabellingError(
            "Use lowercase letters, digits and underscores, starting with a letter (e.g. bacterial_wilt)."
        )
    if LabelClass.objects.filter(name=name).exists():
        raise LabellingError(f"The class {name} already exists.")
    return LabelClass.objects.create(
        name=name, display_name=display.strip() or display_name(name), created_by=created_by
    )


def _verdict(prediction: Prediction, label: str, reject_reason: str, reject_name: str) -> tuple[str, str, str]:
    """(action, label, reject_reason) for what the officer chose; the one place the rule lives.

    - Reject 'unusable': no class (the photo teaches nothing).
    - Reject 'not a potato leaf', or picking the reject class: the reject class; a confirmation
      when the model said so too.
    - Any other class: a confirmation when it is the model's answer, else a correction.
    """
    if reject_reason == Label.RejectReason.UNUSABLE:
        return Label.Action.REJECT, "", reject_reason
    if reject_reason == Label.RejectReason.NOT_POTATO_LEAF or (label and label == reject_name):
        if prediction.label == reject_name:
            return Label.Action.CONFIRM, reject_name, ""
        return Label.Action.REJECT, reject_name, Label.RejectReason.NOT_POTATO_LEAF
    if reject_reason:
        raise LabellingError("Unknown reason to reject.")
    if not label:
        raise LabellingError("Choose a class, or reject the photo.")
    if not LabelClass.objects.filter(name=label).exists():
        raise LabellingError(f"Unknown class {label}.")
    action = Label.Action.CONFIRM if label == prediction.label else Label.Action.CORRECT
    return action, label, ""


@transaction.atomic
def label_submission(submission_id: UUID | str, user, label: str = "", reject_reason: str = "") -> Label:
    """Record an officer's verdict on one submission, replacing the current one if any.

    Submitting the same verdict twice (a double tap) records it once.
    """
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    prediction = Prediction.objects.filter(submission_id=submission_id).first() if submission else None
    if prediction is None:
        raise LabellingError("This photo has no diagnosis yet, so it cannot be reviewed.")
    if submission.status != Submission.Status.DONE:
        # A photo was added (or changed) since the answer the officer saw: the verdict would cover photos
        # no officer looked at. The add-photo route locks the same row, so the two cannot interleave.
        raise LabellingError(
            "This case is being diagnosed again (a photo was added or changed). Try again in a moment."
        )
    action, label, reject_reason = _verdict(prediction, label, reject_reason, reject_label_name())
    current = Label.objects.select_for_update().filter(submission_id=submission_id, is_current=True).first()
    if current is not None:
        if (current.action, current.label, current.reject_reason, current.created_by_id) == (
            action,
            label,
            reject_reason,
            user.pk,
        ):
            return current
        current.is_current = False
        current.save(update_fields=["is_current"])
    verdict = Label.objects.create(
        submission_id=submission_id,
        action=action,
        label=label,
        reject_reason=reject_reason,
        predicted_label=prediction.label,
        replaces=current,
        created_by=user,
        created_at=timezone.now(),
    )
    _mark_reviewed(
        [submission_id], verdict.created_at, review_status=REVIEW_STATUS_OF_ACTION[action], reviewed_label=label
    )
    if submission.phone:
        schedule_verdict_sms(verdict.pk)
    return verdict


@dataclass(frozen=True)
class BulkConfirmed:
    """What a bulk confirmation did with the ticked photos."""

    confirmed: int
    already_reviewed: int
    not_answered: int  # the farmer was told "not sure" (or it is being diagnosed again): needs an officer's own verdict


@transaction.atomic
def bulk_confirm(submission_ids: Iterable[UUID | str], user) -> BulkConfirmed:
    """Confirm the model's answer on unreviewed submissions whose farmer was given that answer.

    Ones reviewed meanwhile are left alone, and so are ones the farmer was told "not sure": the model's
    stored guess was never an answer, so only an officer's own verdict on the photo's page may label them.
    """
    ids = list(dict.fromkeys(str(i) for i in submission_ids))[:BULK_CONFIRM_LIMIT]
    if not ids:
        return BulkConfirmed(0, 0, 0)
    # Lock the rows so a concurrent single review (or an added photo) cannot slip in between the check and
    # the insert; a case being diagnosed again after an added photo is left for its new answer.
    done = set(
        Submission.objects.select_for_update()
        .filter(pk__in=ids, status=Submission.Status.DONE)
        .values_list("pk", flat=True)
    )
    reviewed = set(Label.objects.filter(submission_id__in=ids).values_list("submission_id", flat=True))
    unreviewed = Prediction.objects.filter(submission_id__in=done).exclude(submission_id__in=reviewed)
    answered = list(unreviewed.filter(answer_given_to_farmer()).values_list("submission_id", "label"))
    now = timezone.now()
    labels = [
        Label(
            submission_id=submission_id,
            action=Label.Action.CONFIRM,
            label=predicted,
            predicted_label=predicted,
            created_by=user,
            created_at=now,
        )
        for submission_id, predicted in answered
    ]
    Label.objects.bulk_create(labels)
    confirmed = [label.submission_id for label in labels]
    _mark_reviewed(confirmed, now, review_status=Prediction.ReviewStatus.CONFIRMED, reviewed_label=F("label"))
    with_phone = set(Submission.objects.filter(pk__in=confirmed).exclude(phone="").values_list("pk", flat=True))
    created = Label.objects.filter(submission_id__in=with_phone, is_current=True).values_list("pk", flat=True)
    for label_id in created:
        schedule_verdict_sms(label_id)
    return BulkConfirmed(len(labels), len(reviewed), len(ids) - len(reviewed) - len(labels))


def _mark_reviewed(submission_ids: list, when, **review) -> None:
    """Copy the current verdict onto the predictions; the first verdict's time stays as answered_at."""
    Prediction.objects.filter(submission_id__in=submission_ids).update(reviewed_at=when, **review)
    Prediction.objects.filter(submission_id__in=submission_ids, answered_at__isnull=True).update(answered_at=when)
