"""Writes for people: officers and admins of the dashboard."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from webapp.dashboard.access import ADMINS, OFFICERS

#: What admins may do on the admin site (the data migration gives the same).
ADMIN_PERMISSIONS = {
    "auth": ["add_user", "change_user", "view_user", "view_group"],
    "classifier": [
        "add_labelclass",
        "change_labelclass",
        "view_labelclass",
        "view_label",
        "view_submission",
        "view_prediction",
        "view_modelversion",
    ],
}


def ensure_dashboard_groups() -> tuple[Group, Group]:
    """The ``officers`` and ``admins`` groups (made by a migration; made again here if missing)."""
    officers, _ = Group.objects.get_or_create(name=OFFICERS)
    admins, created = Group.objects.get_or_create(name=ADMINS)
    if created:
        for app_label, codenames in ADMIN_PERMISSIONS.items():
            admins.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
    return officers, admins


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
