"""The configuration that ships, tested as it ships: the test settings differ from production's only
by the secret and the password hasher; bad environment values name their variable; a public site
needs its PUBLIC_URL; the client address behind proxies; the nginx site; admin rights over superusers;
the workers' health page; model files cached from remote storage by several processes at once;
`pytest tests/x.py` run as a newcomer would."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils._os import safe_join

from classifier.models import Submission
from tests.conftest import REPO
from tests.images import jpeg_bytes

SHIPPED_DIFFERENCES = {"SECRET_KEY", "PASSWORD_HASHERS"}


def settings_of(module: str) -> dict:
    code = (
        f"import json, importlib; m = importlib.import_module({module!r}); "
        "print(json.dumps({k: repr(getattr(m, k)) for k in dir(m) if k.isupper()}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env["SECRET_KEY_FILE"] = str(REPO / "var" / "secret_key")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_test_settings_change_only_the_secret_and_the_password_hasher():
    production, test = settings_of("webapp.settings.production"), settings_of("webapp.settings.test")
    changed = {name for name in production.keys() | test.keys() if production.get(name) != test.get(name)}
    assert changed == SHIPPED_DIFFERENCES
    assert "django_redis" in test["CACHES"] and "'IGNORE_EXCEPTIONS': True" in test["CACHES"]
    assert test["UPLOAD_RATE_LIMIT"] == "'30/m'" and "CompressedManifestStaticFilesStorage" in test["STORAGES"]


def test_the_pytest_command_runs_one_file_as_a_newcomer_would():
    """``.venv/bin/pytest tests/x.py`` (not ``python -m pytest``, which puts the cwd on the path)."""
    pytest_command = os.path.join(os.path.dirname(sys.executable), "pytest")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"}}
    result = subprocess.run(
        [pytest_command, "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_validators.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_validators.py::test_empty_file_is_refused" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"), [("SMS_DELAY_SECONDS", "soon"), ("HTTPS", "maybe"), ("PROMOTION_ACCURACY_FLOOR", "high")]
)
def test_a_bad_environment_value_names_its_variable(variable, value):
    env = {**os.environ, variable: value, "SECRET_KEY": "x" * 60}
    result = subprocess.run(
        [sys.executable, "-c", "import webapp.settings.production"], cwd=REPO, env=env, capture_output=True, text=True
    )
    if variable == "HTTPS":  # django-environ reads any unknown word as false: not an error
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    assert f"The environment variable {variable} has a bad value" in result.stderr


def test_a_public_site_refuses_to_start_without_its_public_url():
    """The SMS links to PUBLIC_URL: a site serving a public name with the loopback default would
    text farmers a link to their own phone. ``make run`` (loopback hosts) needs nothing set."""

    def start(command: list[str], **variables: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PUBLIC_URL"}}
        env.update(SECRET_KEY="x" * 60, **variables)
        return subprocess.run([sys.executable, *command], cwd=REPO, env=env, capture_output=True, text=True)

    public = {"ALLOWED_HOSTS": "leafdoctor.example.org"}
    refused = start(["manage.py", "check"], **public)
    assert refused.returncode != 0 and "webapp.E001" in refused.stderr and "own phone" in refused.stderr
    gunicorn = start(["-c", "import webapp.wsgi"], **public)
    assert gunicorn.returncode != 0 and "PUBLIC_URL" in gunicorn.stderr
    fixed = start(["manage.py", "check"], **public, PUBLIC_URL="https://leafdoctor.example.org")
    assert fixed.returncode == 0, fixed.stderr
    assert start(["manage.py", "check"]).returncode == 0  # make run: 127.0.0.1, the default hosts


# -- the client address behind proxies --------------------------------------------------------------


def post(client, **meta):
    photo = SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")
    return client.post("/api/v1/submissions", {"image": photo}, **meta)


@pytest.mark.django_db
def test_behind_one_proxy_each_farmer_has_a_budget_and_a_forged_header_dodges_nothing(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.UPLOAD_RATE_LIMIT = "2/m"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    farmer = [post(client, HTTP_X_FORWARDED_FOR="41.210.1.1", **proxy).status_code for _ in range(2)]
    # The same farmer writes a new first entry each time: the proxy appended her real address.
    forged = [post(client, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 41.210.1.1", **proxy).status_code for n in range(3)]
    neighbour = post(client, HTTP_X_FORWARDED_FOR="41.210.9.9", **proxy).status_code
    assert farmer == [202, 202] and forged == [429, 429, 429] and neighbour == 202


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forwarded", [None, "", "not-an-address", "41.210.1.1, nonsense", "2001:db8::1", " , ,41.210.1.1"]
)
def test_odd_or_missing_forwarded_headers_never_fail(client, settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2
    meta = {"REMOTE_ADDR": "10.0.0.2"}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert post(client, **meta).status_code == 202


@pytest.mark.django_db
def test_behind_two_proxies_the_client_is_the_entry_before_them(settings):
    from django.test import RequestFactory

    from webapp.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 41.210.1.1, 10.0.0.2")
    assert client_ip(request) == "41.210.1.1"


# -- admin rights ---------------------------------------------------------------------------------------


@pytest.fixture
def dashboard_admin_user(db):
    group, _ = Group.objects.get_or_create(name="admins")
    group.permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user", "delete_user"]))
    user = get_user_model().objects.create_user("admin-kabale", password="x", is_staff=True)
    user.groups.add(group)
    return user


def test_the_nginx_site_fills_in_gunicorn_and_the_body_limit_django_applies(settings):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("nginx_site", "--upstream", "10.0.0.2:8000", "--server-name", "leaf.example.org", stdout=out)
    site = out.getvalue()
    assert "server 10.0.0.2:8000;" in site and "server_name leaf.example.org;" in site and "listen 80;" in site
    assert f"client_max_body_size {settings.MAX_REQUEST_BYTES};" in site
    assert "proxy_request_buffering on;" in site and "X-Forwarded-For $proxy_add_x_forwarded_for" in site
    assert "{{" not in site


def test_a_dashboard_admin_cannot_reset_a_superusers_password(client, dashboard_admin_user):
    root = get_user_model().objects.create_superuser("root", password="the original one")
    client.force_login(dashboard_admin_user)
    url = f"/admin/auth/user/{root.pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "taken-over-123", "password2": "taken-over-123"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("the original one")


def test_a_dashboard_admin_cannot_change_or_delete_a_superuser(client, dashboard_admin_user):
    root = get_user_model().objects.create_superuser("root", password="x", email="root@example.org")
    client.force_login(dashboard_admin_user)
    page = client.get(f"/admin/auth/user/{root.pk}/change/")
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()  # view only
    client.post(f"/admin/auth/user/{root.pk}/change/", {"username": "root", "email": "mine@example.org"})
    assert client.get(f"/admin/auth/user/{root.pk}/delete/").status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.org" and root.is_superuser


def test_a_dashboard_admin_cannot_grant_staff(client, dashboard_admin_user):
    officer = get_user_model().objects.create_user("okello", password="x")
    client.force_login(dashboard_admin_user)
    page = client.get(f"/admin/auth/user/{officer.pk}/change/").content.decode()
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    client.post(
        f"/admin/auth/user/{officer.pk}/change/",
        {"username": "okello", "is_staff": "on", "is_superuser": "on", "is_active": "on",
         "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )  # fmt: skip
    officer.refresh_from_db()
    assert not officer.is_staff and not officer.is_superuser


def test_a_superuser_still_can(client, db):
    root = get_user_model().objects.create_superuser("root", password="x")
    other = get_user_model().objects.create_superuser("other", password="old one")
    client.force_login(root)
    response = client.post(
        f"/admin/auth/user/{other.pk}/password/", {"password1": "a-new-long-one-42", "password2": "a-new-long-one-42"}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.check_password("a-new-long-one-42")


# -- /healthz/workers ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_worker_health_is_cached_and_names_workers_only_to_staff(client, monkeypatch, admin_user):
    from django.core.cache import cache

    from webapp import health

    cache.delete(health.WORKERS_CACHE_KEY)
    pings = []

    def ping():
        pings.append(1)
        return {"ok": True, "workers": ["inference@node1"], "queues": {"inference": True, "training": False}}

    monkeypatch.setattr(health, "_ping_workers", ping)
    anonymous = [client.get("/healthz/workers").json() for _ in range(5)]
    assert len(pings) == 1  # five callers, one broadcast
    assert anonymous[0] == {"ok": True, "queues": {"inference": True, "training": False}}
    client.force_login(admin_user)
    assert client.get("/healthz/workers").json()["workers"] == ["inference@node1"]
    cache.delete(health.WORKERS_CACHE_KEY)


# -- model files from remote storage ------------------------------------------------------------------------


class SlowFile(File):
    def read(self, size=-1):
        time.sleep(0.01)
        return self.file.read(size)


class RemoteLikeStorage(FileSystemStorage):
    """Reads like S3: no local paths, and slow enough that processes overlap while caching."""

    def path(self, name):
        raise NotImplementedError("remote storage has no local path")

    def _open(self, name, mode="rb"):
        return SlowFile(open(safe_join(self.location, name), mode))  # noqa: SIM115 - the File closes it


def cache_in_child(arguments) -> str:
    """One worker process caching the model (run with fork, so it shares the parent's settings)."""
    name, sha256, location, cache_dir = arguments
    from unittest import mock

    from django.conf import settings

    from classifier.registry import model_files

    settings.MODEL_CACHE_DIR = cache_dir
    with mock.patch.object(model_files, "default_storage", RemoteLikeStorage(location=location)):
        return str(model_files.local_model_file(name, sha256))


def test_two_worker_processes_cache_the_same_model_at_once(tmp_path):
    from classifier.registry.model_files import path_sha256

    location, cache_dir = tmp_path / "bucket", tmp_path / "model-cache"
    content = os.urandom(3 << 20)  # 3 MB, read in 1 MB chunks with a pause each
    FileSystemStorage(location=location).save("models/v1/model.tflite", ContentFile(content))
    (location / "expected").write_bytes(content)
    sha256 = path_sha256(location / "expected")
    arguments = ("models/v1/model.tflite", sha256, str(location), str(cache_dir))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        paths = pool.map(cache_in_child, [arguments] * 4)
    assert len(set(paths)) == 1 and paths[0].endswith(f"{sha256}.tflite")
    assert (cache_dir / f"{sha256}.tflite").read_bytes() == content
    assert sorted(p.name for p in cache_dir.iterdir()) == [f"{sha256}.tflite"]  # no partial file left


def test_a_cached_copy_from_another_database_is_not_reused(tmp_path, settings):
    """Version numbers restart with a new database; the cache is keyed by content, not by number."""
    from unittest import mock

    from classifier.registry import model_files

    location = tmp_path / "bucket"
    settings.MODEL_CACHE_DIR = tmp_path / "model-cache"
    bucket = FileSystemStorage(location=location)
    with mock.patch.object(model_files, "default_storage", RemoteLikeStorage(location=location)):
        bucket.save("models/v1/model.tflite", ContentFile(b"old model"))
        old = model_files.local_model_file("models/v1/model.tflite")
        bucket.delete("models/v1/model.tflite")
        bucket.save("models/v1/model.tflite", ContentFile(b"new model"))
        new = model_files.local_model_file("models/v1/model.tflite")
        assert old != new and new.read_bytes() == b"new model"
        with pytest.raises(model_files.ModelFileCorrupt):
            model_files.local_model_file("models/v1/model.tflite", sha256="0" * 64)


@pytest.mark.django_db
def test_uploads_are_counted_in_the_shared_redis_cache(client):
    from django_redis import get_redis_connection

    assert post(client).status_code == 202
    keys = get_redis_connection("default").keys("*rl:*")
    assert keys, "the rate limit counted in Redis"
    assert Submission.objects.count() == 1
