"""A request that declares a body over ``MAX_REQUEST_BYTES`` is refused (413) before it is read.

Django would otherwise stream a multipart upload of any size to a temporary file before the
form's 15 MB check ever runs, holding one of gunicorn's few threads all the while. The answer
is the upload's own "too big" message: JSON under ``/api/``, the upload page otherwise. A body
without a Content-Length (chunked) is not read by Django at all, so it needs no check here.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from classifier.validators import too_big_message
from webapp.farmer.forms import SubmissionForm


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads a malformed length as no body too


class RequestSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if declared_length(request) <= settings.MAX_REQUEST_BYTES:
            return self.get_response(request)
        message = too_big_message()
        if request.path.startswith("/api/"):
            return JsonResponse({"error": message}, status=413)
        return render(request, "farmer/upload.html", {"form": SubmissionForm(), "error": message}, status=413)
