"""Data for the dashboard tests: people in each role, and diagnosed submissions."""

from __future__ import annotations

from datetime import datetime

from django.core.files.base import ContentFile

from classifier.decision import Diagnosis
from classifier.models import Photo, Prediction, Submission
from classifier.submissions import services as submission_services
from tests.images import jpeg_bytes

PASSWORD = "field visit in Kabale 2024"


def diagnosed(
    version,
    label: str = "late_blight",
    confidence: float = 0.9,
    margin: float | None = None,
    district: str = "kabale",
    created_at: datetime | None = None,
    image: bytes | None = None,
    phone: str = "",
    language: str = "",
    unsure: bool | None = None,
    kind: str = "",
    photos: int = 1,
) -> Submission:
    """A case of one photo with a recorded prediction, as the inference worker leaves it."""
    submission = Submission(district=district, phone=phone, language=language)
    submission.save(force_insert=True)
    for _ in range(photos):
        add_stored_photo(submission, image)
    if created_at is not None:
        Submission.objects.filter(pk=submission.pk).update(created_at=created_at)
        submission.refresh_from_db()
    labels = list(version.labels)
    runner_up = next(name for name in labels if name != label)
    margin = confidence - (1 - confidence) if margin is None else margin
    top = [
        {"label": label, "confidence": round(confidence, 4)},
        {"label": runner_up, "confidence": round(confidence - margin, 4)},
    ]
    diagnosis = Diagnosis(
        label=label,
        confidence=confidence,
        top=top,
        is_potato_leaf=label != version.reject_label,
        is_unsure=confidence < 0.6 if unsure is None else unsure,
        margin=margin,
        kind=kind,
        labels=("early_blight", "late_blight") if kind == "one_of" else (),
        photos=photos,
    )
    # Each photo's stored model output, as the worker leaves it: the leading label at ``confidence``.
    output = [confidence if name == label else (1 - confidence) / (len(labels) - 1) for name in labels]
    Photo.objects.filter(submission=submission).update(probabilities=output, diagnosed_by=version)
    submission_services.record_prediction(submission, version, diagnosis, inference_ms=10)
    return Submission.objects.select_related("prediction").get(pk=submission.pk)


def add_stored_photo(submission: Submission, image: bytes | None = None) -> Photo:
    """One more photo stored on a case (no model run)."""
    position = Photo.objects.filter(submission=submission).count()
    photo = Photo(submission=submission, position=position, width=64, height=48)
    photo.image.save(f"{submission.id}-{position}.jpg", ContentFile(image or jpeg_bytes()), save=False)
    photo.save(force_insert=True)
    return photo


def first_photo(submission) -> Photo:
    return Photo.objects.get(submission_id=submission.pk, position=0)


def prediction_of(submission) -> Prediction:
    return Prediction.objects.get(pk=submission.pk)


def without_keras_file(version) -> None:
    """Make ``version`` one registered without a Keras file (TFLite only: no heatmaps)."""
    from django.core.files.storage import default_storage

    from classifier.labels.heatmaps import keras_model_name

    default_storage.delete(keras_model_name(version))


def collected_visit(
    officer, label: str = "late_blight", photos: int = 1, district: str = "kabale", images=None, **fields
):
    """A garden visit an officer opened, with ``photos`` photos taken there (``images``' bytes if given;
    through the services)."""
    from uuid import uuid4

    from django.utils import timezone

    from classifier.collection import services as collection_services
    from classifier.validators import validate_photo

    visit, _ = collection_services.open_visit(
        officer, district, fields.pop("parish", "Bubare"), fields.pop("visited_on", timezone.localdate()),
        label=label, farmer_agreed=True, **fields,
    )
    add = collection_services.add_collected_photo
    images = images or [jpeg_bytes()] * photos
    added = [add(uuid4(), visit.pk, officer, validate_photo(ContentFile(image)))[0] for image in images]
    return visit, added[0] if added else None
