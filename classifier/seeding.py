"""Fake but plausible submissions for trying the dashboard and measuring it at volume.

Seeded photos share a few small placeholder images (``seed/placeholder-*.jpg``), so 50,000
submissions cost a few kilobytes of disk. Rows are written with ``bulk_create`` in batches. Drawn
probabilities are read as the worker reads a model's: with the version's decision rule
(``classifier.decision.diagnose``) and the review queue's key, so the queue looks as it will.
"""

from __future__ import annotations

import contextlib
import io
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from classifier.classes import NOT_POTATO_LEAF
from classifier.decision import DecisionRule, diagnose
from classifier.labels.services import REVIEW_STATUS_OF_ACTION
from classifier.models import District, Label, ModelVersion, Photo, Prediction, Submission
from classifier.submissions.services import review_queue_key

SEED_PREFIX = "seed/"
SEED_OFFICER = "seed-officer"
PLACEHOLDER_COLOURS = [(60, 130, 60), (90, 110, 40), (120, 90, 40), (50, 100, 80), (140, 140, 60), (70, 70, 70)]
DISTRICT_WEIGHTS = {District.KABALE: 0.4, District.RUBANDA: 0.25, District.KISORO: 0.25, District.OTHER: 0.05, "": 0.05}
# How often each of the model version's labels is drawn (others 0.05); bacterial wilt only once a model knows it.
CLASS_WEIGHTS = {
    "late_blight": 0.4,
    "early_blight": 0.25,
    "healthy": 0.25,
    "bacterial_wilt": 0.05,
    NOT_POTATO_LEAF: 0.1,
}


@contextlib.contextmanager
def _keep_given_dates(model, *names: str) -> Iterator[None]:
    """Let ``bulk_create`` keep the dates we give instead of ``auto_now(_add)``'s 'now'."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def placeholder_images() -> list[str]:
    """A few small leaf-coloured JPEGs in storage, made once."""
    names = []
    for index, colour in enumerate(PLACEHOLDER_COLOURS):
        name = f"{SEED_PREFIX}placeholder-{index}.jpg"
        if not default_storage.exists(name):
            image = Image.new("RGB", (320, 240), colour)
            draw = ImageDraw.Draw(image)
            draw.ellipse((70, 30, 250, 210), fill=tuple(min(255, c + 50) for c in colour))
            draw.line((160, 40, 160, 200), fill=(30, 60, 30), width=4)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=70)
            default_storage.save(name, ContentFile(buffer.getvalue()))
        names.append(name)
    return names


def seed_officer():
    user, created = get_user_model().objects.get_or_create(username=SEED_OFFICER)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name="officers"))
    return user


def seeded_count() -> int:
    return Submission.objects.filter(photos__position=0, photos__image__startswith=SEED_PREFIX).count()


def seed_submissions(
    count: int,
    version: ModelVersion,
    reviewed_fraction: float = 0.3,
    weeks: int = 26,
    seed: int = 1,
    batch_size: int = 2000,
    log: Callable[[str], None] = lambda message: None,
) -> int:
    """Add ``count`` diagnosed submissions spread over the last ``weeks`` weeks; some reviewed."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    labels = list(version.labels)
    reject = version.reject_label or ""
    rule = DecisionRule.from_dict(version.decision, settings.CLASSIFIER_UNSURE_BELOW)  # as the worker's Predictor
    weights = [CLASS_WEIGHTS.get(name, 0.05) for name in labels]
    districts, district_weights = zip(*DISTRICT_WEIGHTS.items(), strict=True)
    images = placeholder_images()
    officer = seed_officer()
    now = timezone.now()
    span = weeks * 7 * 24 * 3600
    made = 0
    while made < count:
        size = min(batch_size, count - made)
        submissions, photos, predictions, verdicts = [], [], [], []
        for _ in range(size):
            created = now - timedelta(seconds=rng.uniform(60, span))
            submission = Submission(
                id=uuid.uuid4(),
                district=rng.choices(districts, district_weights)[0],
                status=Submission.Status.DONE,
                created_at=created,
                updated_at=created,
                completed_at=created + timedelta(seconds=2),
            )
            photos.append(
                Photo(
                    submission=submission,
                    position=0,
                    image=rng.choice(images),
                    width=320,
                    height=240,
                    created_at=created,
                )
            )
            truth = rng.choices(labels, weights)[0]
            alpha = np.full(len(labels), 0.6)
            alpha[labels.index(truth)] = rng.choice([1.5, 4.0, 12.0, 30.0])
            diagnosis = diagnose(np_rng.dirichlet(alpha), labels, reject or None, rule)
            answer = diagnosis.label
            predictions.append(
                Prediction(
                    submission=submission,
                    model_version=version,
                    label=answer,
                    confidence=diagnosis.confidence,
                    margin=diagnosis.margin,
                    top=diagnosis.top,
                    is_potato_leaf=diagnosis.is_potato_leaf,
                    is_unsure=diagnosis.is_unsure,
                    answer_kind=diagnosis.kind,
                    answer_labels=list(diagnosis.labels),
                    photo_count=1,
                    queue_key=review_queue_key(
                        diagnosis.is_unsure, diagnosis.is_potato_leaf, diagnosis.confidence, created
                    ),
                    inference_ms=rng.uniform(20, 60),
                    created_at=submission.completed_at,
                    submitted_at=created,
                    district=submission.district,
                )
            )
            submissions.append(submission)
            if rng.random() < reviewed_fraction:
                verdict = _verdict(submission, answer, truth, reject, officer, rng)
                verdicts.append(verdict)
                predictions[-1].review_status = REVIEW_STATUS_OF_ACTION[verdict.action]
                predictions[-1].reviewed_label = verdict.label
        with transaction.atomic(), _keep_given_dates(Submission, "created_at", "updated_at"):
            Submission.objects.bulk_create(submissions)
            Photo.objects.bulk_create(photos)
            with _keep_given_dates(Prediction, "created_at"):
                Prediction.objects.bulk_create(predictions)
            Label.objects.bulk_create(verdicts)
        made += size
        log(f"{made}/{count}")
    return made


def _verdict(submission: Submission, answer: str, truth: str, reject: str, officer, rng: random.Random) -> Label:
    reviewed_at = submission.created_at + timedelta(hours=rng.uniform(1, 72))
    common = {"submission": submission, "predicted_label": answer, "created_by": officer, "created_at": reviewed_at}
    if rng.random() < 0.03:
        return Label(action=Label.Action.REJECT, label="", reject_reason=Label.RejectReason.UNUSABLE, **common)
    if truth == answer:
        return Label(action=Label.Action.CONFIRM, label=truth, **common)
    if truth == reject:
        reason = Label.RejectReason.NOT_POTATO_LEAF
        return Label(action=Label.Action.REJECT, label=reject, reject_reason=reason, **common)
    return Label(action=Label.Action.CORRECT, label=truth, **common)


def clear_seeded() -> int:
    """Remove every seeded submission (and its prediction, labels and heatmap)."""
    ids = Photo.objects.filter(position=0, image__startswith=SEED_PREFIX).values("submission_id")
    Label.objects.filter(submission__in=ids).update(replaces=None)
    Label.objects.filter(submission__in=ids).delete()
    deleted = Submission.objects.filter(pk__in=ids).count()
    Submission.objects.filter(pk__in=ids).delete()
    return deleted
