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


def test_adding_a_photo_to_a_not_sure_case_updates_its_answer(active_model, monkeypatch):
    """A rule that answers no single photo but answers two: the second leaf turns "not sure" into an
    answer over both photos, and the first photo is not run again."""
    from classifier import inference
    from classifier.models import Photo

    labels = list(active_model.labels)
    active_model.decision = {"temperature": 1.0, "answer_at": {"2": {name: 0.0 for name in labels}}}
    active_model.save(update_fields=["decision"])
    inference._cached.clear()
    runs = []
    real = inference.Predictor.probabilities
    monkeypatch.setattr(inference.Predictor, "probabilities", lambda self, source: runs.append(1) or real(self, source))

    case = make_submission()
    assert diagnose_submission.run(str(case.id)) == "done"
    first = Prediction.objects.get(submission=case)
    assert (first.answer_kind, first.photo_count, first.answer_labels) == ("not_sure", 1, [])

    path = heldout_photos("late_blight", 2)[1]
    submission_services.add_photo(case.id, validate_photo(SimpleUploadedFile(path.name, path.read_bytes())))
    case.refresh_from_db()
    assert case.status == "pending"
    assert diagnose_submission.run(str(case.id)) == "done"
    answer = Prediction.objects.get(submission=case)
    assert answer.photo_count == 2 and answer.answer_kind in {"diagnosis", "not_potato_leaf"}
    assert answer.answer_labels == [answer.label]
    assert len(runs) == 2  # one model run per photo, each once
    assert Photo.objects.filter(submission=case, probabilities__isnull=True).count() == 0
    inference._cached.clear()


def test_an_answer_over_fewer_photos_than_the_case_has_is_not_recorded(active_model):
    """A photo added while the model ran: the answer over the older photos does not complete the case."""
    import numpy as np

    from classifier.decision import DecisionRule, diagnose
    from tests.dashboard_helpers import add_stored_photo

    case = make_submission()
    add_stored_photo(case)
    one = diagnose(np.full(len(active_model.labels), 0.2), active_model.labels, "not_potato_leaf", DecisionRule())
    assert submission_services.record_prediction(case, active_model, one, 1.0) is False
    assert not Prediction.objects.filter(submission=case).exists()
    assert Submission.objects.get(pk=case.pk).status == "pending"
