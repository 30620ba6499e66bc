"""The multi-machine process layout, as separate processes that share only PostgreSQL (or the
database), Redis and media storage: web behind the shipped nginx site, inference worker,
training worker, beat; and slow or oversized clients against it."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.conftest import wait_for_status
from tests.images import heldout_photos
from tests.stack import Stack

# The layout of several machines runs on PostgreSQL, and what these tests prove (nginx, gunicorn, queues,
# workers' health) is the same on any database: not run again on SQLite, which `make run` (one machine)
# uses and tests/test_processes.py and tests/test_faults.py run with workers.
pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True), pytest.mark.database_agnostic]


def test_process_layout_serves_uploads_and_reports_health(tmp_path, media_root, active_model):
    stack = Stack(tmp_path, media_root, TRUSTED_PROXY_COUNT="1")  # production's setting behind this nginx
    stack.start_redis()
    try:
        stack.start_web()
        stack.start_proxy()
        stack.start_worker("inference", concurrency=2)
        stack.start_worker("training", concurrency=1, queues="training")
        stack.start_beat()
        site = stack.proxy_url  # every request goes through nginx
        health = requests.get(site + "/healthz", timeout=10).json()
        assert health == {"ok": True, "checks": {"database": True, "broker": True, "storage": True}}
        workers = requests.get(site + "/healthz/workers", timeout=10).json()
        assert workers["ok"] and workers["queues"] == {"inference": True, "training": True}
        assert "workers" not in workers  # their names are for signed-in staff only

        path = heldout_photos("late_blight", 1)[0]
        response = requests.post(site + "/api/v1/submissions", files={"image": (path.name, path.read_bytes())})
        assert response.status_code == 202
        submission_id = response.json()["id"]
        assert wait_for_status(submission_id, timeout=30) == "done"
        result = requests.get(f"{site}/api/v1/submissions/{submission_id}", timeout=10).json()
        assert result["prediction"]["label"] == "late_blight"
        assert "/static/" in requests.get(site + "/", timeout=10).text
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


# -- slow and oversized clients (all on 127.0.0.1) ------------------------------------------------

SLOW_BODIES = 16  # gunicorn here has 1 worker x 4 threads; the issue saw 10 stop 2 x 4
SLOW_HEADERS = 16
# Probed once every slow connection is open: nginx then holds them all (none reaches gunicorn) and nothing
# changes until its client_header_timeout (15 s) cuts the slow headers.
PROBE_SECONDS = 5


def slow_clients(port: int, stop: threading.Event, opened: threading.Event) -> list[socket.socket]:
    """Open the slow connections (then set ``opened``), then feed each a byte (a body) or a header line a
    second until ``stop``."""
    bodies, headers = [], []
    for _ in range(SLOW_BODIES):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n\r\n"
        )
        bodies.append(connection)
    for _ in range(SLOW_HEADERS):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        headers.append(connection)
    opened.set()
    while not stop.wait(1.0):
        for connection in bodies:
            connection.sendall(b"x")
        for connection in headers:
            connection.sendall(b"X-Slow: 1\r\n")
    return bodies + headers


def declare_huge_body(port: int) -> tuple[bytes, float]:
    """Declare a 300 MB upload, send a few bytes of it; the status line and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 314572800\r\n"
            b'Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\nContent-Disposition: form-data; name="image"'
        )
        status = connection.recv(4096).split(b"\r\n", 1)[0]
    return status, time.monotonic() - started


def test_behind_the_proxy_slow_clients_leave_the_site_answering(tmp_path, media_root):
    stack = Stack(tmp_path, media_root)
    stack.start_redis()
    try:
        stack.start_web(workers=1, threads=4)
        stack.start_proxy()
        stop, opened = threading.Event(), threading.Event()
        sockets: list[socket.socket] = []
        feeder = threading.Thread(target=lambda: sockets.extend(slow_clients(stack.proxy_port, stop, opened)))
        feeder.start()
        answers, slowest = [], 0.0
        try:
            assert opened.wait(30), "the slow clients could not all connect"
            deadline = time.monotonic() + PROBE_SECONDS
            while time.monotonic() < deadline:
                started = time.monotonic()
                answers.append(requests.get(stack.proxy_url + "/healthz", timeout=3).status_code)
                slowest = max(slowest, time.monotonic() - started)
                time.sleep(0.2)
        finally:
            stop.set()
            feeder.join()
            for connection in sockets:
                connection.close()
        assert len(answers) >= PROBE_SECONDS * 2 and set(answers) == {200}
        assert slowest < 2, f"/healthz took {slowest:.1f} s behind the slow clients"

        # A body declared over the limit is refused before it is read: by nginx, and by Django
        # when a request reaches gunicorn directly.
        for port in (stack.proxy_port, stack.web_port):
            status, seconds = declare_huge_body(port)
            assert status.startswith(b"HTTP/1.1 413"), (port, status)
            assert seconds < 2, (port, seconds)
    finally:
        stack.stop()
