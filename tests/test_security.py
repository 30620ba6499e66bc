"""Secure by default: headers, rate limits, secrets, deploy checks, a friendly 503, S3 media."""

import os
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from classifier.models import Submission
from tests.conftest import REPO
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


def photo():
    return SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "HTTPS", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**clean, **env}, capture_output=True, text=True)


def test_pages_carry_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_upload_form_requires_csrf_token():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/", {"image": photo()}).status_code == 403
    assert Submission.objects.count() == 0


def test_uploads_are_rate_limited_per_client(client, settings):
    settings.UPLOAD_RATE_LIMIT = "3/m"
    statuses = [client.post("/api/v1/submissions", {"image": photo()}).status_code for _ in range(3)]
    assert statuses == [202, 202, 202]
    limited = client.post("/api/v1/submissions", {"image": photo()})
    assert limited.status_code == 429 and "wait a minute" in limited.json()["error"]
    page = client.post("/", {"image": photo()})  # the page and the API share the budget
    assert page.status_code == 429 and "wait a minute" in page.content.decode()
    other_client = client.post("/api/v1/submissions", {"image": photo()}, REMOTE_ADDR="10.9.8.7")
    assert other_client.status_code == 202
    assert Submission.objects.count() == 4


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = run_python("import webapp.settings.production", SECRET_KEY_FILE=str(tmp_path / "missing"), DEBUG="0")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_https_deployment_passes_check_deploy():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="webapp.settings.production", SECRET_KEY="k" * 20 + "-Zx9!" * 10, HTTPS="1")
    env["ALLOWED_HOSTS"] = "potato.example.org"
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    secure = run_python(
        "import webapp.settings.production as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)",
        SECRET_KEY="x" * 60,
        HTTPS="1",
    )
    assert secure.stdout.split() == ["True", "True", "True"]


def test_submissions_are_not_listed_and_media_is_not_served(client):
    created = client.post("/api/v1/submissions", {"image": photo()}).json()
    assert client.get("/api/v1/submissions").status_code == 405
    image_name = Submission.objects.get(pk=created["id"]).image.name
    assert client.get(f"/media/{image_name}").status_code == 404


def test_database_outage_gives_a_friendly_503_and_no_orphan_file(client, media_root, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(Submission, "save", database_gone)
    before = {p for p in media_root.rglob("*") if p.is_file()}
    page = client.post("/", {"image": photo()})
    assert page.status_code == 503 and page["Retry-After"]
    assert "try again in a minute" in page.content.decode()
    api = client.post("/api/v1/submissions", {"image": photo()})
    assert api.status_code == 503 and "not saved" in api.json()["error"]
    assert {p for p in media_root.rglob("*") if p.is_file()} == before


@pytest.mark.django_db
def test_a_query_the_database_refuses_is_not_reported_as_an_outage(admin_user, active_model):
    """An invalid regular expression in an admin filter: SQLite says ``OperationalError``, as for a
    locked file, PostgreSQL ``DataError``; neither is "busy, try again"."""
    from django.test import Client

    from tests.dashboard_helpers import diagnosed

    diagnosed(active_model)  # SQLite runs the expression only on a row
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    response = client.get("/admin/classifier/prediction/?label__regex=(")
    assert response.status_code != 503 and "busy" not in response.content.decode()


def test_health_reports_database_broker_and_storage(client, redis_url):
    body = client.get("/healthz").json()
    assert body == {"ok": True, "checks": {"database": True, "broker": True, "storage": True}}


def test_media_on_s3_compatible_storage(client, settings, active_model, s3_media, tmp_path):
    from classifier.inference import local_model_path
    from classifier.registry.services import register_model_version

    response = client.post("/api/v1/submissions", {"image": photo()})
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.image.name in s3_media()
    version = register_model_version(settings.DEFAULT_MODEL_DIR, created_by="test")
    path = local_model_path(version)
    assert path.is_relative_to(tmp_path) and path.stat().st_size == version.model_file.size


def test_login_is_throttled_after_repeated_failures(client, settings):
    from django.contrib.auth import get_user_model

    settings.AXES_ENABLED = True
    get_user_model().objects.create_user("officer-kisoro", password="a-long-real-passphrase")
    statuses = [
        client.post("/accounts/login/", {"username": "officer-kisoro", "password": "guess"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the form again with an error, then locked out
    locked = client.post("/accounts/login/", {"username": "officer-kisoro", "password": "a-long-real-passphrase"})
    assert locked.status_code == 429


def test_dashboard_admins_cannot_make_themselves_superusers(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    admin_group, _ = Group.objects.get_or_create(name="admins")
    admin_group.permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    user = get_user_model().objects.create_user("admin-kabale", password="x", is_staff=True)
    user.groups.add(admin_group)
    client.force_login(user)
    page = client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
