"""End to end with a real Redis broker and a real Celery worker process (no eager mode)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.models import Prediction, Submission
from classifier.submissions.services import enqueue_inference
from tests.conftest import finished_task_runs, wait_for_status, wait_until
from tests.images import heldout_photos

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def upload(client, path):
    return client.post(
        "/api/v1/submissions",
        {"image": SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg"), "district": "rubanda"},
    )


def test_upload_is_diagnosed_by_the_worker(client, celery_worker_process, active_model):
    path = heldout_photos("late_blight", 1)[0]
    response = upload(client, path)
    assert response.status_code == 202
    submission_id = response.json()["id"]
    assert wait_for_status(submission_id) == "done"
    body = client.get(f"/api/v1/submissions/{submission_id}").json()
    assert body["status"] == "done"
    prediction = body["prediction"]
    assert prediction["label"] == "late_blight"
    assert prediction["is_potato_leaf"] is True
    assert prediction["model_version"] == active_model.number
    assert len(prediction["top"]) == 3
    assert prediction["top"][0]["label"] == "late_blight"


def test_submission_left_pending_by_a_broker_outage_completes_after_requeue(
    client, celery_worker_process, active_model, broker_down
):
    with broker_down():
        response = upload(client, heldout_photos("early_blight", 1)[0])
    submission_id = response.json()["id"]
    assert response.status_code == 202
    assert Submission.objects.get(pk=submission_id).status == "pending"
    # The broker is back: the sweeper's enqueue reaches the worker.
    assert enqueue_inference(Submission.objects.get(pk=submission_id).id)
    assert wait_for_status(submission_id) == "done"


def test_duplicate_deliveries_make_one_prediction(client, celery_worker_process, active_model):
    response = upload(client, heldout_photos("healthy", 1)[0])
    submission = Submission.objects.get(pk=response.json()["id"])
    assert wait_for_status(submission.id) == "done"
    first = Prediction.objects.get(submission=submission)
    completed_at = Submission.objects.get(pk=submission.pk).completed_at
    log = celery_worker_process.log_path
    before = finished_task_runs(log, "diagnose_submission")
    for _ in range(3):
        enqueue_inference(submission.id)
    wait_until(lambda: finished_task_runs(log, "diagnose_submission") == before + 3, 30, log)
    # The three extra deliveries ran and changed nothing the farmer or the officers see.
    again = Prediction.objects.get(submission=submission)
    assert (again.created_at, again.inference_ms, again.label) == (first.created_at, first.inference_ms, first.label)
    assert Submission.objects.get(pk=submission.pk).completed_at == completed_at


def test_a_case_of_three_photos_is_answered_by_the_worker_and_a_fourth_updates_it(
    client, celery_worker_process, active_model
):
    """One case, three leaves, one answer over all three (the kind the version's rule gives for their
    stored outputs); a leaf added later is answered over four."""
    from classifier.models import Photo
    from classifier.submissions.services import diagnose_stored

    paths = heldout_photos("late_blight", 4)
    parts = [SimpleUploadedFile(p.name, p.read_bytes(), content_type="image/jpeg") for p in paths[:3]]
    response = client.post("/api/v1/submissions", {"image": parts, "district": "kabale"})
    assert response.status_code == 202 and response.json()["photos"] == 3
    case_id = response.json()["id"]
    assert wait_for_status(case_id) == "done"
    body = client.get(f"/api/v1/submissions/{case_id}").json()
    photos = list(Photo.objects.filter(submission_id=case_id).order_by("position"))
    assert len(photos) == 3 and all(photo.probabilities for photo in photos)
    expected = diagnose_stored(active_model, photos)
    assert body["answer"]["photos"] == 3 and body["answer"]["kind"] == expected.kind
    assert body["answer"]["labels"] == list(expected.labels) and body["prediction"]["label"] == expected.label

    more = SimpleUploadedFile(paths[3].name, paths[3].read_bytes(), content_type="image/jpeg")
    added = client.post(f"/api/v1/submissions/{case_id}/photos", {"image": more})
    assert added.status_code == 202 and added.json()["photos"] == 4
    assert wait_for_status(case_id) == "done"
    assert client.get(f"/api/v1/submissions/{case_id}").json()["answer"]["photos"] == 4
    assert Prediction.objects.filter(submission_id=case_id).count() == 1
