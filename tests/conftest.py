"""Shared fixtures: media in a temporary folder, a real Redis, a real Celery worker process."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from webapp.processes import ServiceProcesses

# Playwright's sync API runs an event loop in the test thread; the ORM calls in browser tests
# are still made from that one thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(settings.DATA_ROOT)
PLANTVILLAGE = DATA_ROOT / "plantvillage-potato"


# -- test tiers (docs/development.md, "Tests"): `make test-fast` runs what needs no TensorFlow, browser or process --
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Mark what a test needs from what it uses, so a tier cannot miss one by a forgotten marker:
    ``database`` (it touches the database), ``processes`` (a Celery worker), ``browser``."""
    for item in items:
        fixtures = set(item.fixturenames)
        if item.get_closest_marker("django_db") or fixtures & DATABASE_FIXTURES:
            item.add_marker(pytest.mark.database)
        if fixtures & {"celery_worker_process", "training_worker_process"}:
            item.add_marker(pytest.mark.processes)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _tensorflow_only_where_marked(request):
    """In a run that leaves TensorFlow out (`make test-fast`), a test that imports it anyway fails
    and says which marker it lacks."""
    yield
    excluded = "not tensorflow" in (request.config.getoption("markexpr") or "")
    if excluded and "tensorflow" in sys.modules and not request.node.get_closest_marker("tensorflow"):
        pytest.fail(f"{request.node.nodeid} imports TensorFlow: mark it @pytest.mark.tensorflow")


@pytest.fixture(autouse=True)
def _api_responses_match_the_schema(monkeypatch):
    """Every response a test gets from the farmer API (``/api/v1/``), through Django's test client or over
    HTTP with ``requests`` (gunicorn, nginx), is checked against the API's OpenAPI document where the call
    is made: a mismatch fails the test (tests/api_schema.py)."""
    import requests
    from django.test import Client

    from tests import api_schema

    client_request = Client.request
    session_send = requests.Session.send

    def checked_client_request(self, **request):
        response = client_request(self, **request)
        api_schema.check_django_response(response)
        return response

    def checked_send(self, request, **kwargs):
        response = session_send(self, request, **kwargs)
        if not kwargs.get("stream"):  # a streamed body is the test's to read
            api_schema.check_requests_response(response)
        return response

    monkeypatch.setattr(Client, "request", checked_client_request)
    monkeypatch.setattr(requests.Session, "send", checked_send)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, dropped only once the child processes' sessions on it have ended.

    A worker or web process that has exited can leave its PostgreSQL backend alive for a moment,
    and DROP DATABASE refuses while any session is open on it.
    """
    yield
    with django_db_blocker.unblock():
        wait_for_other_database_sessions_to_end()


def wait_for_other_database_sessions_to_end(timeout: float = 15.0) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:

        def none_left() -> bool:
            cursor.execute(f"SELECT count(*) {others}")
            return cursor.fetchone()[0] == 0

        try:
            wait_until(none_left, timeout)
        except AssertionError:
            # Every test is over; a straggler left by a killed process only blocks the drop.
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
    connection.close()


@pytest.fixture(scope="session")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, media_root):
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="session")
def redis_url():
    """The suite's Redis (chosen or started by tests/environment.py), emptied once per session."""
    import redis

    url = os.environ["REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    from webapp.celery import app

    app.conf.broker_url = url
    return url


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with no uploads counted (production's limit and cache are on)."""
    from django.core.cache import cache

    cache.delete_pattern(getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:") + "*")


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving what production serves: the WSGI application alone,
    whose WhiteNoise serves the collected static files. (pytest-django wraps it in Django's
    development handlers, which serve static files from the finders and media files publicly.)"""
    from django.test.testcases import LiveServerThread
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread = LiveServerThread(
        "localhost",
        static_handler=lambda media_handler: media_handler.application,
        connections_override=server.thread.connections_override,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


def database_url_for_workers() -> str:
    """A DATABASE_URL that points a child process at the test database."""
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{params.get('HOST') or 'localhost'}{port}/{params['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` child process on the test database, logging to ``log_path`` (a ``.log``)."""

    def __init__(
        self, redis_url: str, media_root: Path, log_path: Path, queues: str = "inference", **extra_env: str
    ) -> None:
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings.test",
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url_for_workers(),
            "MEDIA_ROOT": str(media_root),
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.processes = ServiceProcesses(env, log_dir=log_path.parent)
        self.processes.start_worker(log_path.stem, queues=queues, wait=None)

    def wait_ready(self, timeout: float = 90) -> None:
        self.processes.wait_for_worker(self.log_path.stem, timeout)

    def stop(self) -> None:
        self.processes.stop(timeout=0.5)  # as tests/stack.py's Stack: no test here is about a warm shutdown


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, redis_url, media_root, tmp_path_factory):
    worker = WorkerProcess(redis_url, media_root, tmp_path_factory.mktemp("logs") / "worker.log")
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def training_worker_process(django_db_setup, redis_url, media_root, tmp_path_factory):
    """A real Celery worker on the training queue, shared by the session: its pool child imports
    TensorFlow once, for Grad-CAM and retraining alike. A retraining it runs is CI-sized and trains on
    what a test puts in ``worker.retraining_dir`` (``base/<class>/``, ``negatives/``)."""
    folder = tmp_path_factory.mktemp("training-worker")
    retraining = {
        "RETRAIN_BASE_DATA": str(folder / "base"),
        "RETRAIN_NEGATIVES": str(folder / "negatives"),
        "RETRAIN_FIELD_DATA": "",
        "RETRAIN_FIELD_NEGATIVES": "",
        "RETRAIN_WORK_DIR": str(folder / "work"),
        "IMAGENET_WEIGHTS": "none",
        "RETRAIN_IMAGE_SIZE": "32",
        "RETRAIN_HEAD_EPOCHS": "1",
        "PROMOTION_ACCURACY_FLOOR": "0",
        "PROMOTION_RECALL_TOLERANCE": "1",
    }
    worker = WorkerProcess(redis_url, media_root, folder / "logs" / "training.log", queues="training", **retraining)
    worker.retraining_dir = folder
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing fails as it does when Redis is unreachable (kombu's OperationalError)."""
    import contextlib

    from kombu.exceptions import OperationalError

    from classifier.tasks import diagnose_submission

    @contextlib.contextmanager
    def down():
        def refuse(*args, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        with monkeypatch.context() as patch:
            patch.setattr(diagnose_submission, "apply_async", refuse)
            yield

    return down


@pytest.fixture
def s3_media(settings, tmp_path):
    """Media on S3 (moto's in-process mock, bucket ``potato-media``); yields a function listing its keys."""
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="potato-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "storages.backends.s3.S3Storage",
                        "OPTIONS": {"bucket_name": "potato-media", "region_name": "us-east-1"}},
        }  # fmt: skip
        settings.MODEL_CACHE_DIR = tmp_path / "model-cache"
        yield lambda: [item["Key"] for item in s3.list_objects_v2(Bucket="potato-media").get("Contents", [])]


@pytest.fixture
def active_model(db):
    from django.core.files.storage import default_storage

    from classifier.labels.heatmaps import keras_model_name
    from classifier.registry.selectors import active_model_version
    from classifier.registry.services import ensure_default_model

    ensure_default_model(settings.DEFAULT_MODEL_DIR)
    version = active_model_version()
    # The repo ships only the TFLite file; a model.keras left by a local `train_model` run must not
    # make tests behave differently from a fresh clone.
    default_storage.delete(keras_model_name(version))
    return version


@pytest.fixture
def officer(db):
    from tests.dashboard_helpers import PASSWORD
    from webapp.dashboard.accounts import create_officer

    return create_officer("okello", PASSWORD)


@pytest.fixture
def dashboard_admin(db):
    from tests.dashboard_helpers import PASSWORD
    from webapp.dashboard.accounts import create_officer

    return create_officer("atim", PASSWORD, admin=True)


@pytest.fixture
def farmer(db):
    """A signed-in user outside the dashboard's groups."""
    from django.contrib.auth import get_user_model

    from tests.dashboard_helpers import PASSWORD

    return get_user_model().objects.create_user("farmer", password=PASSWORD)


def wait_for_status(submission_id, timeout: float = 60.0, not_status: str = "pending") -> str:
    from classifier.models import Submission

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Submission.objects.values_list("status", flat=True).get(pk=submission_id)
        if status != not_status:
            return status
        time.sleep(0.1)
    raise AssertionError(f"submission {submission_id} still {not_status} after {timeout}s")


# -- the browser (one chromium per session, shared by every browser test module) ------------------

from tests.browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright, one per test session: every browser test module shares
    it (Playwright's sync API allows one instance per thread)."""
    if not CHROMIUM:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def finished_task_runs(log_path: Path, task: str) -> int:
    """How many runs of ``classifier.tasks.<task>`` a worker's log says have finished."""
    lines = log_path.read_text(errors="replace").splitlines()
    return sum(f"classifier.tasks.{task}[" in line and " succeeded in " in line for line in lines)


def wait_until(condition, timeout: float, log_path: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
    raise AssertionError(f"condition not met in {timeout}s\n{tail}")
