"""Who may open the dashboard: a matrix of roles over every URL pattern under /dashboard/."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.dashboard_helpers import PASSWORD, collected_visit, diagnosed
from training.services import create_training_run

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {
    "dashboard:add-class",
    "dashboard:retrain",
    "dashboard:cancel-run",
    "dashboard:promote",
    "dashboard:roll-back",
    "dashboard:collect-export",
}


def dashboard_patterns():
    """(name, pattern) for every URL pattern under the dashboard/ include."""
    found = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "dashboard/":
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern), "nested includes: walk them too"
                found.append((f"{entry.namespace}:{pattern.name}", pattern))
    return found


def url_for(name, pattern, ids):
    """The pattern's URL with a real object for each of its arguments (``ids`` by argument name)."""
    return reverse(name, kwargs={key: ids[key] for key in pattern.pattern.converters})


def test_the_walk_finds_the_dashboard_urls():
    names = {name for name, _ in dashboard_patterns()}
    assert {"dashboard:queue", "dashboard:review", "dashboard:label", "dashboard:export", "dashboard:reports"} <= names
    assert len(names) >= 12


def test_every_dashboard_view_is_guarded():
    for name, pattern in dashboard_patterns():
        assert getattr(pattern.callback, "dashboard_guard", None), f"{name} has no officer_required/admin_required"


@pytest.mark.parametrize("method", ["get", "post"])
def test_permission_matrix(client, method, active_model, officer, dashboard_admin, farmer):
    submission = diagnosed(active_model)
    run = create_training_run("retrain", "atim")
    visit, photo = collected_visit(officer)
    ids = {
        "submission_id": submission.pk,
        "run_id": run.pk,
        "number": active_model.number,
        "visit_id": visit.pk,
        "photo_id": photo.pk,
    }
    User = get_user_model()
    for name, pattern in dashboard_patterns():
        url = url_for(name, pattern, ids)
        send = getattr(client, method)

        client.logout()
        response = send(url)
        assert response.status_code == 302, (name, method, "anonymous")
        assert response["Location"].startswith(reverse("login") + "?next="), name

        for user, allowed in (
            (User.objects.get(username="farmer"), False),
            (User.objects.get(username="okello"), name not in ADMIN_ONLY),
            (User.objects.get(username="atim"), True),
        ):
            client.force_login(user)
            response = send(url)
            if allowed:
                assert response.status_code != 403, (name, method, user.username)
                assert not response.get("Location", "").startswith(reverse("login")), (name, method, user.username)
            else:
                assert response.status_code == 403, (name, method, user.username, response.status_code)


def test_login_page_signs_an_officer_in_and_lands_on_the_queue(client, officer):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and 'name="viewport"' in page.content.decode()
    response = client.post(reverse("login"), {"username": "okello", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    client.logout()
    wrong = client.post(reverse("login"), {"username": "okello", "password": "nope"})
    assert "did not match" in wrong.content.decode()


def test_logout_signs_out(client, officer):
    client.force_login(officer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_a_farmer_sees_a_helpful_403(client, farmer):
    client.force_login(farmer)
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "for extension officers" in response.content.decode()


def test_groups_come_from_a_migration():
    from django.contrib.auth.models import Group

    admins = Group.objects.get(name="admins")
    assert Group.objects.filter(name="officers").exists()
    codenames = set(admins.permissions.values_list("codename", flat=True))
    assert {"add_user", "add_labelclass"} <= codenames


def test_create_officer_command(capsys):
    call_command("create_officer", "nsubuga", "--password", PASSWORD)
    user = get_user_model().objects.get(username="nsubuga")
    assert set(user.groups.values_list("name", flat=True)) == {"officers"}
    assert user.check_password(PASSWORD) and not user.is_staff
    assert "can sign in" in capsys.readouterr().out

    call_command("create_officer", "nsubuga", "--admin")  # promote; the password stays
    user.refresh_from_db()
    assert set(user.groups.values_list("name", flat=True)) == {"officers", "admins"}
    assert user.is_staff and user.check_password(PASSWORD)


def test_create_officer_refuses_weak_or_missing_passwords():
    with pytest.raises(CommandError, match="too common|too short"):
        call_command("create_officer", "kato", "--password", "password")
    with pytest.raises(CommandError, match="needs a password"):
        call_command("create_officer", "kato")
    assert not get_user_model().objects.filter(username="kato").exists()
