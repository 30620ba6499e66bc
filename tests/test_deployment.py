"""The multi-machine process layout, as separate processes that share only PostgreSQL (or the
database), Redis and media storage: web, inference worker, training worker, beat."""

import pytest
import requests

from tests.conftest import wait_for_status
from tests.images import heldout_photos
from tests.stack import Stack

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_process_layout_serves_uploads_and_reports_health(tmp_path, media_root, active_model):
    stack = Stack(tmp_path, media_root)
    stack.start_redis()
    try:
        stack.start_web()
        stack.start_worker("inference", concurrency=2)
        stack.start_worker("training", concurrency=1, queues="training")
        stack.start_beat()
        health = requests.get(stack.url + "/healthz", timeout=10).json()
        assert health == {"ok": True, "checks": {"database": True, "broker": True, "storage": True}}
        workers = requests.get(stack.url + "/healthz/workers", timeout=10).json()
        assert workers["ok"] and workers["queues"] == {"inference": True, "training": True}
        assert "workers" not in workers  # their names are for signed-in staff only

        path = heldout_photos("late_blight", 1)[0]
        response = requests.post(stack.url + "/api/v1/submissions", files={"image": (path.name, path.read_bytes())})
        submission_id = response.json()["id"]
        assert wait_for_status(submission_id, timeout=30) == "done"
        result = requests.get(f"{stack.url}/api/v1/submissions/{submission_id}", timeout=10).json()
        assert result["prediction"]["label"] == "late_blight"
    finally:
        stack.stop()


def test_worker_health_fails_without_inference_workers(tmp_path, media_root):
    stack = Stack(tmp_path, media_root)
    stack.start_redis()
    try:
        stack.start_web()
        response = requests.get(stack.url + "/healthz/workers", timeout=10)
        assert response.status_code == 503 and response.json()["queues"]["inference"] is False
    finally:
        stack.stop()
