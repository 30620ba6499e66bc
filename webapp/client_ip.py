"""The client's address, for the upload rate limit and login throttling.

Directly exposed (``TRUSTED_PROXY_COUNT = 0``) it is ``REMOTE_ADDR``. Behind N trusted proxies
that each append the address they saw to ``X-Forwarded-For``, it is the N-th entry from the right
(django-ipware): what a client wrote into the header itself sits further left and is ignored, so
a forged header cannot dodge the limit. A request that did not come through the proxies (too few
entries, or no header) counts as ``REMOTE_ADDR``: it never fails.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")  # empty only for requests made in code (force_login)
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:  # did not come through our proxies
        return remote
    # Only the entries our proxies appended; ipware validates them (the client, then the proxies
    # in front of the last one) and answers None for anything malformed.
    ours = SimpleNamespace(META={"HTTP_X_FORWARDED_FOR": ", ".join(hops[-proxies:]), "REMOTE_ADDR": remote})
    try:
        address, _ = get_client_ip(
            ours,
            proxy_order="left-most",  # the trimmed header reads: client, then our proxies
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=True,
        )
    except ValueError:
        return remote
    return address or remote


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key: one bucket per client address."""
    return client_ip(request)
