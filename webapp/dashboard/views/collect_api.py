"""What the Collect page's script (and its service worker) sends: a garden visit as JSON, then each photo on its
own (multipart). Both carry the id the phone gave them, so sending one again (a retry after a lost answer, the
page and Background Sync at once) stores nothing more: 201 the first time, 200 after. Answers are JSON; 400 says
why something was refused (the phone marks it failed and sends it no more), 404 that a photo's visit is unknown.
"""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from classifier.collection import services
from classifier.validators import validate_photo
from webapp.dashboard.access import collector_required


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


@collector_required
@require_POST
@never_cache
def visits(request: HttpRequest) -> JsonResponse:
    """Open a visit: ``{"id", "district", "parish", "visited_on", "label", "evidence": [...], "farmer_agreed"}``."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _refused("Send the visit as JSON.")
    if not isinstance(body, dict):
        return _refused("Send the visit as JSON.")
    visit_id = _uuid(body.get("id"))
    if visit_id is None:
        return _refused("A visit needs its id.")
    try:
        visited_on = date.fromisoformat(str(body.get("visited_on", "")))
    except ValueError:
        return _refused("Give the visit's date (YYYY-MM-DD).")
    evidence = body.get("evidence") or []
    if not isinstance(evidence, list):
        return _refused("Evidence is a list.")
    try:
        visit, created = services.open_visit(
            request.user,
            str(body.get("district", "")),
            str(body.get("parish", "")),
            visited_on,
            label=str(body.get("label") or ""),
            evidence=evidence,
            visit_id=visit_id,
            farmer_agreed=body.get("farmer_agreed") is True,
        )
    except services.CollectionError as refused:
        return _refused(str(refused))
    url = reverse("dashboard:collect-visit", args=[visit.pk])
    return JsonResponse({"id": str(visit.pk), "created": created, "url": url}, status=201 if created else 200)


@collector_required
@require_POST
@never_cache
def photos(request: HttpRequest) -> JsonResponse:
    """Add one photo to a visit: multipart ``id``, ``visit``, ``image`` and optional ``taken_at`` (ISO 8601)."""
    photo_id, visit_id = _uuid(request.POST.get("id")), _uuid(request.POST.get("visit"))
    if photo_id is None or visit_id is None:
        return _refused("A photo needs its id and its visit's.")
    image = request.FILES.get("image")
    if image is None:
        return _refused("No photo was sent.")
    try:
        taken_at = parse_datetime(request.POST.get("taken_at", ""))
    except ValueError:
        taken_at = None
    try:
        clean = validate_photo(image)
        photo, created = services.add_collected_photo(photo_id, visit_id, request.user, clean, taken_at)
    except ValidationError as refused:
        return _refused(refused.messages[0])
    except services.VisitNotFound as missing:
        return _refused(str(missing), status=404)
    except services.CollectionError as refused:
        return _refused(str(refused))
    return JsonResponse(
        {"id": str(photo.pk), "visit": str(photo.visit_id), "created": created}, status=201 if created else 200
    )
