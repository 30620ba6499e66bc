"""Writes for people: officers and admins of the dashboard."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import DEFAULT_DB_ALIAS, transaction

from webapp.dashboard.access import ADMINS, OFFICERS

#: The one list of what each dashboard group holds on the admin site. ``ensure_dashboard_groups``
#: brings the groups to it after every ``migrate`` and whenever someone is added with
#: ``create_officer``; a permission added to a group by hand is taken away again. Officers hold
#: only the dashboard's own permission to collect photos in gardens (they are not staff: it opens
#: nothing on the admin site). The migration that first made the groups keeps its own frozen copy.
GROUP_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    OFFICERS: {"classifier": ["collect_field_photos"]},
    ADMINS: {
        "auth": ["add_user", "change_user", "view_user", "view_group"],
        "classifier": [
            "add_labelclass",
            "change_labelclass",
            "view_labelclass",
            "view_label",
            "view_submission",
            "view_prediction",
            "view_modelversion",
            "collect_field_photos",
            "view_gardenvisit",
            "view_visitlabel",
            "view_collectedphoto",
        ],
    },
}


def _permissions(by_app: dict[str, list[str]]) -> list[Permission]:
    """The listed permissions; a name that does not exist is a mistake in the list, not a silent gap."""
    wanted = {(app_label, codename) for app_label, codenames in by_app.items() for codename in codenames}
    candidates = Permission.objects.filter(
        content_type__app_label__in=list(by_app), codename__in=[codename for _, codename in wanted]
    ).select_related("content_type")
    found = [
        permission for permission in candidates if (permission.content_type.app_label, permission.codename) in wanted
    ]
    missing = wanted - {(permission.content_type.app_label, permission.codename) for permission in found}
    if missing:
        raise LookupError(f"No such permissions: {sorted(missing)}")
    return found


@transaction.atomic
def ensure_dashboard_groups() -> tuple[Group, Group]:
    """The ``officers`` and ``admins`` groups, made if missing, holding exactly ``GROUP_PERMISSIONS``."""
    groups = {}
    for name, by_app in GROUP_PERMISSIONS.items():
        groups[name], _ = Group.objects.get_or_create(name=name)
        groups[name].permissions.set(_permissions(by_app))  # adds the missing, removes the rest
    return groups[OFFICERS], groups[ADMINS]


def sync_dashboard_groups(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """``post_migrate``: apply ``GROUP_PERMISSIONS`` once every app's permissions exist.

    Django sends the signal once per app, in ``INSTALLED_APPS`` order, and makes each app's
    permissions on its turn; so this acts on the last app's turn.
    """
    last = [config for config in django_apps.get_app_configs() if config.models_module is not None][-1]
    if sender is last and using == DEFAULT_DB_ALIAS:
        ensure_dashboard_groups()


def add_to_officers(user) -> None:
    """Make ``user`` an officer (someone a dashboard admin added on the admin site)."""
    user.groups.add(Group.objects.get_or_create(name=OFFICERS)[0])


@transaction.atomic
def create_officer(username: str, password: str | None = None, admin: bool = False, email: str = ""):
    """Create (or update) a dashboard user in ``officers``, and in ``admins`` with ``admin``.

    Admins are also staff, so they can add people on the admin site. A new user needs a password;
    for an existing one it is changed only when given. Raises ``ValidationError`` for a weak password.
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        if not password:
            raise ValueError("A new officer needs a password.")
        user = User(username=username, email=email)
    if password:
        validate_password(password, user)
        user.set_password(password)
    if email:
        user.email = email
    if admin:
        user.is_staff = True
    user.save()
    officers, admins = ensure_dashboard_groups()
    user.groups.add(*([officers, admins] if admin else [officers]))
    return user
