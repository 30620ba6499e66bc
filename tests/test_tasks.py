"""The inference task, called directly: one prediction however often it is delivered."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.models import Prediction, Submission
from classifier.submissions import services as submission_services
from classifier.tasks import diagnose_submission, requeue_stale_submissions
from classifier.validators import validate_photo
from tests.images import heldout_photos

pytestmark = pytest.mark.django_db


def make_submission(label="late_blight") -> Submission:
    path = heldout_photos(label, 1)[0]
    photo = validate_photo(SimpleUploadedFile(path.name, path.read_bytes()))
    return submission_services.create_submission(photo, "kabale")


def test_redelivered_task_creates_one_prediction(active_model):
    submission = make_submission()
    assert diagnose_submission.run(str(submission.id)) == "done"
    assert diagnose_submission.run(str(submission.id)) == "done"
    prediction = Prediction.objects.get(submission=submission)
    assert prediction.label == "late_blight"
    assert prediction.model_version == active_model
    submission.refresh_from_db()
    assert submission.status == "done" and submission.completed_at


def test_record_prediction_is_idempotent(active_model):
    import numpy as np

    from classifier.decision import DecisionRule, diagnose

    submission = make_submission()
    classes = len(active_model.labels)
    first = diagnose(np.eye(classes)[2] * 0.6 + 0.4 / classes, active_model.labels, "not_potato_leaf", DecisionRule())
    second = diagnose(np.eye(classes)[0] * 0.6 + 0.4 / classes, active_model.labels, "not_potato_leaf", DecisionRule())
    assert first.label != second.label
    submission_services.record_prediction(submission, active_model, first, 1.0)
    submission_services.record_prediction(submission, active_model, second, 1.0)
    assert Prediction.objects.get(submission=submission).label == first.label


def test_missing_submission_is_not_an_error():
    assert diagnose_submission.run("00000000-0000-0000-0000-000000000000") == "missing"


def test_sweeper_requeues_only_stale_pending(active_model, settings, monkeypatch):
    requeued = []
    monkeypatch.setattr("classifier.submissions.services.enqueue_inference", lambda sid: requeued.append(sid) or True)
    stale, _fresh = make_submission(), make_submission()
    Submission.objects.filter(pk=stale.pk).update(updated_at=stale.created_at.replace(year=2020))
    settings.STALE_SUBMISSION_SECONDS = 60
    assert requeue_stale_submissions.run() == 1
    assert requeued == [stale.id]
