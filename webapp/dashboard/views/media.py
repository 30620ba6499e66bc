"""Photos for signed-in officers only: a case's photos (``?n=`` picks one, the first by default), their
thumbnails, and the heatmap."""

from __future__ import annotations

import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from classifier.labels import heatmaps
from classifier.labels import selectors as label_selectors
from classifier.submissions import selectors as submission_selectors
from classifier.thumbnails import ensure_thumbnail
from webapp.dashboard.access import officer_required

HEATMAP_MESSAGES = {
    "unavailable": "No heatmap for this model version: it has no Keras model (model.keras) to compute one with.",
    "none": "The heatmap has not been asked for yet.",
    "pending": "Computing where the model looked…",
    "done": "Warm colours show where the model looked to give its answer (the centre square it saw).",
    "failed": "The heatmap could not be computed for this photo.",
}


def _file_response(name: str, max_age: int) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("File missing") from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    patch_cache_control(response, private=True, max_age=max_age)
    return response


def _position(request: HttpRequest) -> int:
    try:
        return max(0, int(request.GET.get("n", 0)))
    except ValueError:
        raise Http404("No such photo") from None


@officer_required
@require_GET
def image(request: HttpRequest, submission_id) -> HttpResponse:
    name = submission_selectors.officer_photo_name(submission_id, _position(request))
    if not name:
        raise Http404("No such photo")
    return _file_response(name, max_age=3600)


@officer_required
@require_GET
def thumbnail(request: HttpRequest, submission_id) -> HttpResponse:
    position = _position(request)
    name = submission_selectors.photo_image_name(submission_id, position)
    if not name:
        raise Http404("No such photo")
    try:
        thumb = ensure_thumbnail(submission_id, name, position)
    except (OSError, ValueError):  # a missing or unreadable original
        raise Http404("No thumbnail") from None
    return _file_response(thumb, max_age=7 * 24 * 3600)


@officer_required
@require_http_methods(["GET", "POST"])
def heatmap(request: HttpRequest, submission_id) -> JsonResponse:
    """GET: the heatmap's state. POST: ask the training worker for it (idempotent), then its state."""
    submission = label_selectors.submission_for_review(submission_id)
    if submission is None or getattr(submission, "prediction", None) is None:
        raise Http404("No diagnosed photo here")
    if request.method == "POST":
        requested = heatmaps.request_heatmap(submission)
        state = requested.status if requested is not None else "unavailable"
    else:
        state = heatmaps.heatmap_state(submission)
    body = {"state": state, "message": HEATMAP_MESSAGES[state]}
    if state == "done":
        body["url"] = reverse("dashboard:heatmap-image", args=[submission.pk])
    return JsonResponse(body)


@officer_required
@require_GET
def heatmap_image(request: HttpRequest, submission_id) -> HttpResponse:
    name = label_selectors.heatmap_image_name(submission_id)
    if not name:
        raise Http404("No heatmap yet")
    return _file_response(name, max_age=3600)
