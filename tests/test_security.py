"""Secure by default: headers, rate limits, secrets, deploy checks, a friendly 503, S3 media, admin rights."""

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


@pytest.mark.database_agnostic  # production's settings in a subprocess; the test database is not used
def test_https_deployment_passes_check_deploy():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="webapp.settings.production", SECRET_KEY="k" * 20 + "-Zx9!" * 10, HTTPS="1")
    env.update(ALLOWED_HOSTS="potato.example.org", PUBLIC_URL="https://potato.example.org")
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
    image_name = Submission.objects.get(pk=created["id"]).photos.get().image.name
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
    assert submission.photos.get().image.name in s3_media()
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


# -- admin rights: what a dashboard admin (staff, group "admins", not a superuser) can do there ------------

ADMIN_PASSWORD = "field visit in Kabale 2024"


def user_change_form(user, **changes) -> dict:
    """The user admin's change form as the page would post it, with ``changes``."""
    joined = user.date_joined
    form = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
    }
    return {**form, **changes}


@pytest.fixture
def powerful_group(db):
    """A group a superuser made for someone else, holding rights dashboard admins lack."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="model-managers")
    group.permissions.add(*Permission.objects.filter(codename__in=["delete_user", "change_modelversion"]))
    return group


def test_a_dashboard_admin_cannot_put_itself_or_an_officer_in_a_group(client, dashboard_admin, officer, powerful_group):
    from django.contrib.auth.models import Group

    client.force_login(dashboard_admin)
    admins = Group.objects.get(name="admins")
    for user in (dashboard_admin, officer):
        url = f"/admin/auth/user/{user.pk}/change/"
        client.post(url, user_change_form(user, groups=[powerful_group.pk, admins.pk]))
    assert set(dashboard_admin.groups.values_list("name", flat=True)) == {"officers", "admins"}
    assert set(officer.groups.values_list("name", flat=True)) == {"officers"}
    dashboard_admin = type(dashboard_admin).objects.get(pk=dashboard_admin.pk)  # no cached permissions
    assert not dashboard_admin.has_perm("auth.delete_user")
    assert not dashboard_admin.has_perm("classifier.change_modelversion")
    for user in (dashboard_admin, officer):
        assert 'name="groups"' not in client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()


def test_a_dashboard_admin_cannot_take_over_another_staff_account(client, dashboard_admin):
    from webapp.dashboard.accounts import create_officer

    other = create_officer("kato", ADMIN_PASSWORD, admin=True, email="kato@example.org")
    client.force_login(dashboard_admin)
    password_url = f"/admin/auth/user/{other.pk}/password/"
    assert client.get(password_url).status_code == 403
    new_password = {"password1": "taken-over-by-atim-42", "password2": "taken-over-by-atim-42"}
    assert client.post(password_url, new_password).status_code == 403
    page = client.get(f"/admin/auth/user/{other.pk}/change/")
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()  # view only
    client.post(f"/admin/auth/user/{other.pk}/change/", user_change_form(other, email="atim@example.org"))
    other.refresh_from_db()
    assert other.check_password(ADMIN_PASSWORD) and other.email == "kato@example.org"
    # Its own account too: its password changes with the old one, on /admin/password_change/.
    assert client.get(f"/admin/auth/user/{dashboard_admin.pk}/password/").status_code == 403


def test_a_dashboard_admin_still_adds_officers_and_resets_their_passwords(client, dashboard_admin, officer):
    client.force_login(dashboard_admin)
    new_password = {"password1": "a-new-long-one-42", "password2": "a-new-long-one-42"}
    assert client.post(f"/admin/auth/user/{officer.pk}/password/", new_password).status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("a-new-long-one-42")

    response = client.post("/admin/auth/user/add/", {"username": "nsubuga", "usable_password": "true", **new_password})
    assert response.status_code == 302
    added = type(officer).objects.get(username="nsubuga")
    assert set(added.groups.values_list("name", flat=True)) == {"officers"}
    assert not added.is_staff and not added.is_superuser


def group_permissions(name: str) -> set[tuple[str, str]]:
    from django.contrib.auth.models import Group

    return set(Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename"))


def listed(name: str) -> set[tuple[str, str]]:
    from webapp.dashboard.accounts import GROUP_PERMISSIONS

    return {(app, codename) for app, codenames in GROUP_PERMISSIONS[name].items() for codename in codenames}


def test_the_dashboard_groups_are_brought_to_the_one_list(officer):
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    from webapp.dashboard.accounts import create_officer

    admins = Group.objects.get(name="admins")
    # Officers hold only the dashboard's permission to collect photos in gardens (nothing on the admin site).
    assert group_permissions("admins") == listed("admins")
    assert group_permissions("officers") == listed("officers") == {("classifier", "collect_field_photos")}
    extra = Permission.objects.get(codename="change_modelversion")
    admins.permissions.add(extra)
    admins.permissions.remove(Permission.objects.get(codename="add_labelclass"))
    Group.objects.get(name="officers").permissions.add(extra)

    create_officer("kato", ADMIN_PASSWORD)  # adding someone applies the list
    assert group_permissions("admins") == listed("admins") and group_permissions("officers") == listed("officers")

    admins.permissions.add(extra)
    call_command("migrate", verbosity=0)  # and so does every deploy
    assert group_permissions("admins") == listed("admins")


def test_a_registered_model_version_is_read_only_in_the_admin(admin_client, active_model):
    """Workers cache a version's predictor: an edited rule would reach some of them and not others."""
    import json

    url = f"/admin/classifier/modelversion/{active_model.pk}/change/"
    before = (active_model.labels, active_model.decision, active_model.file_hashes, active_model.image_size)
    form = {  # every field of the form as it was, with a new rule: the change a superuser could make
        "number": active_model.number,
        "labels": json.dumps(list(reversed(active_model.labels))),
        "image_size": "64",
        "reject_label": active_model.reject_label,
        "decision": json.dumps({"temperature": 9, "reject_at": 0.01, "unsure_below": 0.01}),
        "metrics": json.dumps(active_model.metrics),
        "file_hashes": "{}",
        "created_by": active_model.created_by,
        "evaluation": json.dumps(active_model.evaluation),
        "promotion_note": active_model.promotion_note,
        "notes": "checked in Kabale",
    }
    assert admin_client.post(url, form).status_code == 302
    active_model.refresh_from_db()
    assert (active_model.labels, active_model.decision, active_model.file_hashes, active_model.image_size) == before
    assert active_model.notes == "checked in Kabale"
    page = admin_client.get(url).content.decode()
    for field in ("labels", "decision", "file_hashes", "image_size", "reject_label", "model_file"):
        assert f'name="{field}"' not in page, field
    assert admin_client.get("/admin/classifier/modelversion/add/").status_code == 403


def test_the_submission_admin_refuses_lookups_on_the_phone_number(client, dashboard_admin):
    for phone in ("+256772123456", "+256772123456", "+256701000000"):
        Submission.objects.create(phone=phone)
    client.force_login(dashboard_admin)
    listing = client.get("/admin/classifier/submission/")
    assert listing.status_code == 200 and "3 submissions" in listing.content.decode()
    assert client.get("/admin/classifier/submission/?status__exact=pending").status_code == 200
    for query in (
        "phone__startswith=%2B2567721",
        "phone__startswith=%2B2567722",
        "phone=%2B256772123456",
        "phone__regex=%5E%5C%2B2567",
        "phone__isnull=False",
        "prediction__submission__phone__startswith=%2B2567721",
    ):
        response = client.get(f"/admin/classifier/submission/?{query}")
        assert response.status_code == 400, query
        assert "submission" not in response.content.decode().lower(), query
    for admin_page in ("prediction", "label", "smsmessage"):
        response = client.get(f"/admin/classifier/{admin_page}/?submission__phone__startswith=%2B2567721")
        assert response.status_code in (400, 403), admin_page
