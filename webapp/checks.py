"""System checks for what the settings cannot check alone.

``webapp.E001``: the verdict SMS links to ``PUBLIC_URL``. A site that serves a public host name
(any ``ALLOWED_HOSTS`` entry other than loopback names and Django's ``testserver``) with a loopback
``PUBLIC_URL`` (the default, ``http://127.0.0.1:8000``) would text farmers a link to their own
phone, so ``manage.py migrate``, ``check`` and ``runstack``, and gunicorn (``webapp/wsgi.py``),
refuse to start. ``make run``, which serves 127.0.0.1 with the default hosts, needs nothing set.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "public_url"
LOCAL_NAMES = {"localhost", "testserver"}


def is_local_host(host: str) -> bool:
    """Whether ``host`` (a name, an address, ``[::1]``) can only be this machine."""
    host = host.strip().lower().lstrip(".").strip("[]")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checks.register(TAG)
def check_public_url(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    url = urlsplit(settings.PUBLIC_URL)
    if url.scheme not in {"http", "https"} or not url.hostname:
        return [
            checks.Error(
                f"PUBLIC_URL {settings.PUBLIC_URL!r} is not a web address.",
                hint="Set PUBLIC_URL to the address farmers' phones open, e.g. https://leafdoctor.example.org.",
                id="webapp.E001",
            )
        ]
    public = [host for host in settings.ALLOWED_HOSTS if not is_local_host(host)]
    if public and is_local_host(url.hostname):
        return [
            checks.Error(
                f"PUBLIC_URL is {settings.PUBLIC_URL!r} while the site serves {', '.join(public)}: "
                "the link in every verdict SMS would point at the farmer's own phone.",
                hint="Set PUBLIC_URL to the address farmers' phones open, e.g. https://leafdoctor.example.org.",
                id="webapp.E001",
            )
        ]
    return []


def refuse_to_start_on_errors() -> None:
    """For processes Django's commands do not start (gunicorn): stop on this module's errors."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{error.msg} {error.hint}" for error in errors))
