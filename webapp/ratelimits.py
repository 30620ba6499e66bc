"""The upload rate limit shared by the upload page and the API: one budget per client address
(``webapp.client_ip``), counted in the shared cache; the view answers 429 when ``request.limited``."""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.decorators import ratelimit

from webapp.client_ip import ratelimit_key


def _upload_rate(group, request) -> str | None:
    return settings.UPLOAD_RATE_LIMIT


def _original_rate(group, request) -> str | None:
    return settings.ORIGINAL_RATE_LIMIT


upload_limit = ratelimit(group="upload", key=ratelimit_key, rate=_upload_rate, method="POST", block=False)


#: The pieces of photos' larger copies (``webapp.farmer.api.photo_original``) have their own budget: a case
#: of six photos sends a dozen or so, which must not use up the farmer's uploads.
original_limit = ratelimit(group="original", key=ratelimit_key, rate=_original_rate, method="PUT", block=False)
