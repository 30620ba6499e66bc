"""The farmer's language: ``?lang=`` first (and remembered in a cookie), then the cookie, then
the browser's Accept-Language, then English."""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

QUERY_PARAMETER = "lang"


def requested_language(request) -> str | None:
    """The supported language named by ``?lang=``, or None."""
    code = request.GET.get(QUERY_PARAMETER, "").strip().lower()
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (cookie, Accept-Language) with ``?lang=`` in front of it."""

    def process_request(self, request):
        chosen = requested_language(request)
        if chosen is None:
            return super().process_request(request)
        request.chosen_language = chosen
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response = super().process_response(request, response)
        patch_vary_headers(response, ("Cookie",))
        chosen = getattr(request, "chosen_language", None)
        if chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
