"""When the database is down, farmers get a friendly 503 page (or JSON), not a server error.

A query the database refused for its values is no outage and stays a server error
(:func:`webapp.database_errors.is_outage`): "busy, try again" would hide it and promise too much.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from webapp.database_errors import is_outage

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        logger.error("database unavailable: %s", exception)
        message = "The service is busy for a moment. Your photo was not saved; please send it again in a minute."
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": message}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
