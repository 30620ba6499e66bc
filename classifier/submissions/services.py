"""Writes of farmers' cases: storing 1 to 6 photos, adding one, enqueueing inference, recording each photo's
model output and the case's prediction, marking a photo unusable, and the farmer's own check."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from classifier.decision import MAX_CASE_PHOTOS, AnswerKind, DecisionRule, Diagnosis, diagnose_case
from classifier.models import CheckAnswer, Label, ModelVersion, Photo, Prediction, Submission
from classifier.submissions.answers import announce_answer
from classifier.submissions.selectors import usable_photos
from classifier.validators import CleanPhoto

logger = logging.getLogger(__name__)


class CaseError(ValueError):
    """A photo that cannot be added to a case; the message is shown to the farmer."""


def _store_photos(submission: Submission, photos: list[CleanPhoto], first_position: int) -> list[Photo]:
    """Photo rows (unsaved) with their files stored; the caller deletes the files if its write fails."""
    rows = []
    for offset, photo in enumerate(photos):
        position = first_position + offset
        row = Photo(submission=submission, position=position, width=photo.width, height=photo.height)
        row.image.save(f"{submission.id}-{position}.jpg", ContentFile(photo.content), save=False)
        rows.append(row)
    return rows


def _delete_files(rows: list[Photo]) -> None:
    for row in rows:
        row.image.delete(save=False)


def create_submission(
    photos: CleanPhoto | list[CleanPhoto], district: str = "", phone: str = "", language: str = ""
) -> Submission:
    """Store a case (1 to ``MAX_CASE_PHOTOS`` photos) and its images together, then enqueue inference once
    the rows are committed.

    ``phone`` (optional) is where the officer's verdict goes by SMS, in ``language``. If the
    database write fails the stored files are removed, so no orphan files are left.
    """
    photos = [photos] if isinstance(photos, CleanPhoto) else list(photos)
    if not 1 <= len(photos) <= MAX_CASE_PHOTOS:
        raise CaseError(f"a case has 1 to {MAX_CASE_PHOTOS} photos")
    # Counted as published in the insert itself (one write less per upload); undone if publishing fails.
    submission = Submission(district=district, phone=phone or "", language=language, enqueue_count=1)
    rows = _store_photos(submission, photos, 0)
    try:
        with transaction.atomic():
            submission.save(force_insert=True)
            Photo.objects.bulk_create(rows)
            transaction.on_commit(lambda: enqueue_inference(submission.id, counted=True))
    except Exception:
        _delete_files(rows)
        raise
    return submission


def add_photo(submission_id: UUID | str, photo: CleanPhoto) -> Submission:
    """Add one photo to a case and diagnose the case again (it is pending until the new answer is ready).

    Refused (``CaseError``) at ``MAX_CASE_PHOTOS`` photos and once an officer has answered the case: the
    officer's verdict is the answer then, and it was given on the photos the officer saw.
    """
    rows: list[Photo] = []
    try:
        with transaction.atomic():
            submission = Submission.objects.select_for_update().get(pk=submission_id)
            if Label.objects.filter(submission_id=submission_id).exists():
                raise CaseError("answered")
            count = Photo.objects.filter(submission_id=submission_id).count()
            if count >= MAX_CASE_PHOTOS:
                raise CaseError("full")
            rows = _store_photos(submission, [photo], count)
            rows[0].save(force_insert=True)
            now = timezone.now()
            Submission.objects.filter(pk=submission_id).update(
                status=Submission.Status.PENDING,
                error="",
                completed_at=None,
                updated_at=now,
                inference_attempts=0,
                enqueue_count=F("enqueue_count") + 1,
            )
            transaction.on_commit(lambda: enqueue_inference(submission.id, counted=True))
    except Exception:
        _delete_files(rows)
        raise
    submission.refresh_from_db()
    return submission


def enqueue_inference(submission_id: UUID, counted: bool = False) -> bool:
    """Publish the inference task; if the broker is down, leave the submission for the sweeper.

    ``counted``: the caller's own write already counted this publication (and set ``updated_at``)."""
    from classifier.tasks import diagnose_submission

    try:
        diagnose_submission.apply_async(args=[str(submission_id)])
    except Exception:  # kombu raises many kinds of connection errors
        logger.warning("could not enqueue submission %s; the sweeper will retry", submission_id, exc_info=True)
        if counted:
            Submission.objects.filter(pk=submission_id).update(enqueue_count=F("enqueue_count") - 1)
        return False
    if not counted:
        Submission.objects.filter(pk=submission_id).update(
            enqueue_count=F("enqueue_count") + 1, updated_at=timezone.now()
        )
    return True


def record_photo_probabilities(photo_id: int, version: ModelVersion, probabilities: np.ndarray) -> None:
    """Store one photo's raw model output (the task runs the model once per photo and model version)."""
    # One row, or one per test-time view when the model's rule reads a photo with several.
    stored = np.round(np.asarray(probabilities, dtype=np.float64), 6).tolist()
    Photo.objects.filter(pk=photo_id).update(probabilities=stored, diagnosed_by=version)


def record_prediction(
    submission: Submission,
    version: ModelVersion,
    diagnosis: Diagnosis,
    inference_ms: float,
    photo_outputs: dict[int, np.ndarray] | None = None,
) -> bool:
    """Save the case's prediction (created, or rewritten for a case that got a photo) and complete the
    case; returns whether this call saved it.

    Only a pending case is written, under its row lock: a redelivered task finds it done and writes
    nothing, so a case's answer is recorded once per diagnosis. An answer over fewer photos than the
    case's usable ones (a photo added while the model ran) is not recorded: the task the new photo
    enqueued records the answer over all of them. The review columns are left as they are.

    ``photo_outputs`` (photo id: raw output) are the photos the task ran the model on: stored in the same
    transaction (one commit per diagnosis), whether or not the answer is recorded.
    """
    submission_id = submission.pk
    now = timezone.now()
    with transaction.atomic():
        for photo_id, probabilities in (photo_outputs or {}).items():
            record_photo_probabilities(photo_id, version, probabilities)
        locked = Submission.objects.select_for_update().filter(pk=submission_id, status=Submission.Status.PENDING)
        if not locked.exists():
            return False
        usable = Photo.objects.filter(submission_id=submission_id, is_unusable=False).count()
        if usable and usable != diagnosis.photos:
            return False
        fields = _prediction_fields(submission, version, diagnosis, inference_ms)
        # The case's row lock makes this the only writer: no savepoint of update_or_create needed.
        if not Prediction.objects.filter(submission_id=submission_id).update(**fields):
            Prediction.objects.create(submission_id=submission_id, **fields)
        Submission.objects.filter(pk=submission_id).update(
            status=Submission.Status.DONE, completed_at=now, error="", updated_at=now
        )
        transaction.on_commit(lambda: announce_answer(submission_id))
    return True


def _prediction_fields(
    submission: Submission, version: ModelVersion, diagnosis: Diagnosis, inference_ms: float
) -> dict:
    """What a prediction stores of a diagnosis, with the copies the officers' queue and reports read."""
    return {
        "model_version": version,
        "label": diagnosis.label,
        "confidence": diagnosis.confidence,
        "margin": diagnosis.margin,
        "top": diagnosis.top,
        "is_potato_leaf": diagnosis.is_potato_leaf,
        "is_unsure": diagnosis.is_unsure,
        "answer_kind": diagnosis.kind,
        "answer_labels": list(diagnosis.labels),
        "photo_count": diagnosis.photos,
        "inference_ms": inference_ms,
        "submitted_at": submission.created_at,
        "district": submission.district,
        "queue_key": review_queue_key(
            diagnosis.is_unsure, diagnosis.is_potato_leaf, diagnosis.confidence, submission.created_at
        ),
    }


def rule_of(version: ModelVersion) -> DecisionRule:
    """A version's decision rule, read as the worker's ``Predictor.rule`` reads it."""
    return DecisionRule.from_dict(version.decision or None, settings.CLASSIFIER_UNSURE_BELOW)


def diagnose_stored(version: ModelVersion, photos: list[Photo]) -> Diagnosis:
    """The case's answer from its photos' stored model outputs (no model run)."""
    return diagnose_case(
        [np.asarray(photo.probabilities, dtype=np.float64) for photo in photos],
        list(version.labels),
        version.reject_label or None,
        rule_of(version),
    )


@transaction.atomic
def mark_photo_unusable(photo_id: int, user, unusable: bool = True) -> Photo:
    """An officer marks one photo of a case unusable (or usable again): it leaves (or rejoins) the case's
    answer and retraining. A diagnosed case's answer is worked out again from the stored outputs; a
    pending one is answered by its task over the usable photos."""
    photo = Photo.objects.select_for_update().select_related("submission").get(pk=photo_id)
    Photo.objects.filter(pk=photo_id).update(
        is_unusable=unusable,
        marked_unusable_by=user if unusable else None,
        marked_unusable_at=timezone.now() if unusable else None,
    )
    submission = photo.submission
    prediction = Prediction.objects.filter(submission_id=submission.pk).select_related("model_version").first()
    usable = list(usable_photos(submission.pk))
    stored = prediction is not None and all(
        p.probabilities is not None and p.diagnosed_by_id == prediction.model_version_id for p in usable
    )
    if prediction is not None and not usable:
        # No photo left to answer from: the farmer's answer becomes "not sure" (an officer will look).
        Prediction.objects.filter(pk=submission.pk).update(
            answer_kind=AnswerKind.NOT_SURE,
            answer_labels=[],
            is_unsure=True,
            queue_key=review_queue_key(True, prediction.is_potato_leaf, prediction.confidence, submission.created_at),
        )
    elif submission.status == Submission.Status.PENDING or (prediction is not None and not stored):
        # Photos without this version's outputs (a migrated case, a promotion since): diagnose the case again.
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.PENDING, updated_at=timezone.now())
        transaction.on_commit(lambda: enqueue_inference(submission.pk))
    elif prediction is not None:
        diagnosis = diagnose_stored(prediction.model_version, usable)
        fields = _prediction_fields(submission, prediction.model_version, diagnosis, prediction.inference_ms)
        Prediction.objects.filter(pk=submission.pk).update(**fields)
    photo.refresh_from_db()
    return photo


def record_field_check(submission_id: UUID | str, check: str, answer: str) -> bool:
    """Store the farmer's answer to her own check (yes / no / can't tell); the latest answer counts."""
    if answer not in CheckAnswer.values:
        return False
    return bool(
        Submission.objects.filter(pk=submission_id).update(
            field_check=check, field_check_answer=answer, field_check_at=timezone.now()
        )
    )


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
    failed = Submission.objects.filter(pk=submission_id, status=Submission.Status.PENDING).update(
        status=Submission.Status.FAILED, error=error[:2000], completed_at=timezone.now()
    )
    if failed:
        transaction.on_commit(lambda: announce_answer(submission_id))
