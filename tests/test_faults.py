"""Nothing lost: kill -9 a worker mid-inference, restart Redis during an upload, lose the database.

Every part runs as its own process (gunicorn, Celery worker and beat, a Redis server of the
test's own), and the faults are real: SIGKILL, a stopped Redis, an unreachable database.
"""

from pathlib import Path

import pytest
import requests

from classifier.models import Submission
from tests.conftest import finished_task_runs, wait_for_status, wait_until
from tests.images import heldout_photos
from tests.stack import Stack

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def upload(stack: Stack, label: str = "late_blight") -> str:
    path = heldout_photos(label, 1)[0]
    response = requests.post(
        stack.url + "/api/v1/submissions", files={"image": (path.name, path.read_bytes(), "image/jpeg")}, timeout=10
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def assert_farmer_sees_an_answer(stack: Stack, submission_id: str) -> None:
    """What the farmer's page asks for: the submission done, with the model's answer."""
    body = requests.get(f"{stack.url}/api/v1/submissions/{submission_id}", timeout=10).json()
    assert body["status"] == "done" and body["prediction"]["label"] == body["prediction"]["top"][0]["label"]


@pytest.fixture
def stack(tmp_path, media_root, active_model):
    stack = Stack(
        tmp_path,
        media_root,
        INFERENCE_RUNTIME="tests.slow_runtime.SlowRuntime",
        SLOW_RUNTIME_MARKERS=str(tmp_path / "markers"),
        SLOW_RUNTIME_RELEASE=str(tmp_path / "release"),  # inference holds until the test has struck
        SLOW_RUNTIME_SECONDS="60",
        STALE_SUBMISSION_SECONDS="3",
        SWEEP_INTERVAL_SECONDS="1",
        CELERY_VISIBILITY_TIMEOUT="3600",
    )
    stack.start_redis()
    yield stack
    stack.stop()


def markers(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "markers"
    return sorted(folder.iterdir()) if folder.exists() else []


def release_inference(tmp_path: Path) -> None:
    """Inference started from now on (and the one held, if it still runs) finishes at once."""
    (tmp_path / "release").touch()


def test_killing_the_pool_process_mid_inference_redelivers_the_task(stack, tmp_path):
    stack.start_web()
    stack.start_worker()
    submission_id = upload(stack)
    stack.wait_until(lambda: markers(tmp_path), 30, "worker")
    (child,) = stack.pool_children("worker")
    child.kill()  # SIGKILL in the middle of inference
    release_inference(tmp_path)
    assert wait_for_status(submission_id, timeout=60) == "done", stack.log_tail("worker")
    assert len(markers(tmp_path)) >= 2  # inference ran again after the kill
    assert_farmer_sees_an_answer(stack, submission_id)


def test_killing_the_whole_worker_mid_inference_loses_nothing(stack, tmp_path):
    stack.start_web()
    stack.start_worker("first")
    stack.start_beat()
    submission_id = upload(stack)
    stack.wait_until(lambda: markers(tmp_path), 30, "first")
    stack.kill("first")  # the main process and its pool child, kill -9
    assert Submission.objects.get(pk=submission_id).status == "pending"
    release_inference(tmp_path)
    stack.start_worker("second")
    assert wait_for_status(submission_id, timeout=60) == "done", stack.log_tail("second") + stack.log_tail("beat")
    assert_farmer_sees_an_answer(stack, submission_id)


def test_a_photo_that_kills_every_worker_is_given_up_and_the_farmer_told(tmp_path, media_root, active_model, client):
    """Without a limit its task is delivered again after every death, for ever (and the sweeper adds more)."""
    from django.contrib.auth import get_user_model

    from tests.images import jpeg_bytes
    from tests.killer_runtime import MAGENTA

    killed = tmp_path / "killed"
    stack = Stack(
        tmp_path,
        media_root,
        INFERENCE_RUNTIME="tests.killer_runtime.KillerRuntime",
        KILLER_RUNTIME_MARKERS=str(killed),
        MAX_INFERENCE_ATTEMPTS="3",
        STALE_SUBMISSION_SECONDS="2",
        SWEEP_INTERVAL_SECONDS="1",
    )
    stack.start_redis()
    try:
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        response = requests.post(
            stack.url + "/api/v1/submissions",
            files={"image": ("leaf.jpg", jpeg_bytes((400, 400), MAGENTA), "image/jpeg")},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        killer_id = response.json()["id"]
        other_id = upload(stack)  # queued behind it: answered all the same
        assert wait_for_status(killer_id, timeout=90) == "failed", stack.log_tail("worker")
        assert len(list(killed.iterdir())) == 3  # the model ran three times, each run killed its process
        assert wait_for_status(other_id, timeout=60) == "done", stack.log_tail("worker")
        assert_farmer_sees_an_answer(stack, other_id)

        api = requests.get(f"{stack.url}/api/v1/submissions/{killer_id}", timeout=10).json()
        assert api["status"] == "failed" and api["prediction"] is None
        page = requests.get(f"{stack.url}/s/{killer_id}/", timeout=10).text
        assert "We could not read this photo" in page and "take the photo again" in page
        # Two more sweeps of pending photos finish: the failed one is not queued again.
        worker_log = tmp_path / "worker.log"
        sweeps = finished_task_runs(worker_log, "requeue_stale_submissions")
        wait_until(lambda: finished_task_runs(worker_log, "requeue_stale_submissions") >= sweeps + 2, 30, worker_log)
        assert len(list(killed.iterdir())) == 3
    finally:
        stack.stop()
    submission = Submission.objects.get(pk=killer_id)
    assert submission.inference_attempts == 4 and "during each of 3 runs" in submission.error
    client.force_login(get_user_model().objects.create_superuser("root", password="x" * 20))
    change_page = client.get(f"/admin/classifier/submission/{killer_id}/change/").content.decode()
    assert "during each of 3 runs on this photo" in change_page


# The fault is the broker's: the database sees an upload stored and later diagnosed, as in
# test_integration's broker-outage test, which the SQLite re-run keeps.
@pytest.mark.database_agnostic
def test_upload_while_redis_is_down_completes_when_it_is_back(stack, tmp_path):
    # The web process runs the settings that ship: the upload rate limit is on and counts in the
    # Redis cache, which is down too; the limit fails open instead of answering 500.
    release_inference(tmp_path)  # no fault strikes mid-inference here
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    stack.stop_redis()
    submission_id = upload(stack, "early_blight")  # accepted and stored while the broker is away
    assert Submission.objects.get(pk=submission_id).status == "pending"
    stack.start_redis()
    assert wait_for_status(submission_id, timeout=90) == "done", stack.log_tail("worker") + stack.log_tail("beat")
    assert_farmer_sees_an_answer(stack, submission_id)


@pytest.mark.database_agnostic  # its web process is given an unreachable PostgreSQL on either run
def test_unreachable_database_gives_503_and_leaves_no_file(tmp_path):
    media = tmp_path / "media"
    stack = Stack(tmp_path, media, DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    stack.start_redis()
    try:
        stack.start_web()
        assert requests.get(stack.url + "/", timeout=10).status_code == 200  # the page needs no database
        path = heldout_photos("healthy", 1)[0]
        response = requests.post(
            stack.url + "/api/v1/submissions", files={"image": (path.name, path.read_bytes())}, timeout=10
        )
        assert response.status_code == 503
        assert "not saved" in response.json()["error"]
        assert not [p for p in media.rglob("*") if p.is_file()]
    finally:
        stack.stop()
