"""Who may use the officers' dashboard: members of the ``officers`` or ``admins`` groups.

Anonymous visitors are sent to the login page; signed-in users outside both groups (farmers,
or anyone else) get a 403 page. ``admins`` may also add label classes and people.

Whose account a dashboard admin may manage on the admin site is decided here too
(:func:`may_manage_account`): officers' only; staff accounts are the superusers' to manage.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

OFFICERS = "officers"
ADMINS = "admins"


def roles(user) -> frozenset[str]:
    """The user's dashboard groups, looked up once per request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_dashboard_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=(OFFICERS, ADMINS)).values_list("name", flat=True))
        if user.is_superuser:
            cached |= {ADMINS}
        user._dashboard_roles = cached
    return cached


def is_officer(user) -> bool:
    return bool(roles(user))


def is_dashboard_admin(user) -> bool:
    return ADMINS in roles(user)


#: The permission to collect photos in gardens (issue 27); both dashboard groups hold it (``GROUP_PERMISSIONS``).
COLLECT_PERMISSION = "classifier.collect_field_photos"


def may_collect(user) -> bool:
    """An officer (or admin) whose groups hold the permission to collect."""
    return is_officer(user) and user.has_perm(COLLECT_PERMISSION)


def holds_more_than_an_officer(user) -> bool:
    """Staff, a superuser, in a group besides ``officers``, or with a permission of its own."""
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.exclude(name=OFFICERS).exists() or user.user_permissions.exists()


def may_manage_account(actor, account) -> bool:
    """Whether ``actor`` may change, reset the password of, or delete ``account`` (given the model rights).

    A superuser may manage anyone. Anyone else (a dashboard admin) only accounts that hold no more
    than an officer does: taking one over, or editing it, gains nothing the actor lacks. Its own
    account is staff, so it is not among them; it changes its password with the old one
    (``/admin/password_change/``).
    """
    return actor.is_superuser or not holds_more_than_an_officer(account)


def _guard(allowed: Callable[[object], bool], message: str):
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user):
                return render(request, "dashboard/forbidden.html", {"message": message}, status=403)
            return view(request, *args, **kwargs)

        wrapped.dashboard_guard = allowed.__name__  # lets the URL test see every view is guarded
        return wrapped

    return decorator


officer_required = _guard(is_officer, "This page is for extension officers.")
admin_required = _guard(is_dashboard_admin, "Only dashboard admins can do this.")
collector_required = _guard(may_collect, "Only extension officers may collect photos in gardens.")
