"""The answer in the upload's own response (issue 26): with ``?wait=`` the API answers 201 with the case's
answer when the real worker has it in time, 202 pending when not; the wait is bounded, survives a Redis
outage, never misses an answer that came first, and leaves gunicorn threads free."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from classifier.models import Submission
from classifier.submissions import answers
from tests.images import heldout_photos, jpeg_bytes


def photo_upload(path=None):
    content = path.read_bytes() if path else jpeg_bytes(size=(384, 288))
    return SimpleUploadedFile("leaf.jpg", content, content_type="image/jpeg")


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_upload_with_wait_carries_the_workers_answer_and_the_pages_html(client, celery_worker_process, active_model):
    leaf = heldout_photos("late_blight", 1)[0]
    response = client.post("/api/v1/submissions?wait=2&fragment=1", {"image": photo_upload(leaf)})
    if response.status_code == 202:  # the worker was still starting its model: once more, now it is warm
        response = client.post("/api/v1/submissions?wait=2&fragment=1", {"image": photo_upload(leaf)})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done" and body["waited"] is True
    assert body["answer"]["kind"] in {"diagnosis", "not_sure", "one_of", "not_potato_leaf"}
    assert body["answer"]["title"] in body["html"]
    assert f'data-api="/api/v1/submissions/{body["id"]}"' in body["html"] and 'data-status="done"' in body["html"]

    # One more leaf, the same way: the case's new answer over both photos.
    added = client.post(f"/api/v1/submissions/{body['id']}/photos?wait=2", {"image": photo_upload(leaf)})
    assert added.status_code == 201 and added.json()["answer"]["photos"] == 2 and "html" not in added.json()


@pytest.mark.django_db(transaction=True)
def test_without_a_worker_the_wait_runs_out_and_the_case_is_pending(client):
    response = client.post("/api/v1/submissions?wait=0.3", {"image": photo_upload()})
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["waited"] is True
    plain = client.post("/api/v1/submissions", {"image": photo_upload()})
    assert plain.status_code == 202 and plain.json()["waited"] is False


@pytest.mark.parametrize(
    ("asked", "waits"),
    [(None, 0.0), ("", 0.0), ("abc", 0.0), ("nan", 0.0), ("-3", 0.0), ("1.5", 1.5), ("1e9", 2.0), ("inf", 2.0)],
)
@override_settings(ANSWER_WAIT_SECONDS=2.0)
def test_the_wait_asked_for_is_bounded(asked, waits):
    assert answers.requested_wait(asked) == waits


def test_an_answer_announced_before_the_wait_starts_is_not_missed():
    case = "11111111-1111-1111-1111-111111111111"
    answers.announce_answer(case)
    assert answers.wait_for_answer(case, 5, lambda: True) is True


def test_an_old_announcement_wakes_the_wait_but_the_stored_case_decides():
    case = "22222222-2222-2222-2222-222222222222"
    answers.announce_answer(case)  # the answer before a photo was added
    reads = []
    assert answers.wait_for_answer(case, 0.3, lambda: reads.append(1) or False) is False
    assert reads == [1]


def test_waiting_threads_are_capped_per_process():
    case = "33333333-3333-3333-3333-333333333333"
    with override_settings(ANSWER_WAITERS_PER_PROCESS=1):
        answers._waiters = None  # the cap is read once per process
        try:
            started = threading.Event()
            results = []

            def waiter():
                started.set()
                results.append(answers.wait_for_answer(case, 2, lambda: True))

            thread = threading.Thread(target=waiter)
            thread.start()
            started.wait()
            while answers._semaphore()._value:  # until the first waiter holds the only place
                pass
            reads = []
            # The second finds no place: it does not wait, nor read, even though an answer comes.
            assert answers.wait_for_answer(case, 2, lambda: reads.append(1) or True) is False and reads == []
            answers.announce_answer(case)
            thread.join(5)
            assert results == [True]
        finally:
            answers._waiters = None


def test_redis_down_costs_only_the_wait(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    case = "44444444-4444-4444-4444-444444444444"
    answers.announce_answer(case)  # never raises
    assert answers.wait_for_answer(case, 1, lambda: True) is False


@pytest.mark.django_db
def test_the_worker_path_announces_the_answer_and_a_failure(django_capture_on_commit_callbacks, monkeypatch):
    from classifier.submissions import services

    announced = []
    monkeypatch.setattr(services, "announce_answer", announced.append)
    case = Submission.objects.create()
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_submission_failed(case.pk, "broken")
        services.mark_submission_failed(case.pk, "again")  # no longer pending: nothing to announce
    assert announced == [case.pk]
