"""Officers' collection pages (issue 27): the Collect page (open a garden visit, take photos in a row, each
sent in the background: ``static/js/collect.js``, offline through its own service worker), one visit's page
(its photos, its label history, relabel, more photos), and the visit photos themselves.

Without JavaScript the same pages work as plain forms: the visit is opened by a POST, photos are added on the
visit's page. Reads go through ``classifier.collection.selectors``, writes through its services.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier import checked
from classifier.collection import selectors, services
from classifier.labels import selectors as label_selectors
from classifier.registry import selectors as registry_selectors
from classifier.thumbnails import ensure_thumbnail
from classifier.validators import validate_photo
from webapp.dashboard.access import collector_required
from webapp.dashboard.collect_forms import AddPhotosForm, VisitForm, VisitLabelForm
from webapp.dashboard.model_version_presenters import present_learning_curve
from webapp.dashboard.views.media import _file_response
from webapp.dashboard.views.queue import render_dashboard

VISITS_PER_PAGE = 15
#: What the Collect page needs offline, besides the page itself (kept by its service worker).
OFFLINE_STATIC = ["css/dashboard.css", "js/photos.js", "js/collect-store.js", "js/collect.js", "js/sw-register.js"]


def _visit_or_404(visit_id):
    visit = selectors.visit_for_page(visit_id)
    if visit is None:
        raise Http404("No such visit")
    return visit


@collector_required
@require_http_methods(["GET", "POST"])
def collect(request: HttpRequest) -> HttpResponse:
    """The Collect page; a POST opens a visit (the page without JavaScript)."""
    classes = list(label_selectors.label_classes())
    form = VisitForm(request.POST if request.method == "POST" else None, classes=classes)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit, _ = services.open_visit(
                request.user,
                data["district"],
                data["parish"],
                data["visited_on"],
                label=data["label"],
                evidence=data["evidence"],
                farmer_agreed=data["farmer_agreed"],
            )
        except services.CollectionError as refused:
            error = str(refused)
        else:
            messages.success(request, "Visit opened: add its photos below.")
            return redirect("dashboard:collect-visit", visit_id=visit.pk)
    page = Paginator(selectors.visits_for_dashboard(), VISITS_PER_PAGE).get_page(request.GET.get("page"))
    return render_dashboard(
        request,
        "dashboard/collect.html",
        {
            "form": form,
            "error": error,
            "parishes": selectors.parishes(),
            "page": page,
            "still_needed": present_learning_curve(
                registry_selectors.latest_learning_curve(), checked.checked_photo_counts()
            ),
            "js_config": json.dumps(
                {
                    "visits": reverse("dashboard:collect-api-visits"),
                    "photos": reverse("dashboard:collect-api-photos"),
                }
            ),
        },
        status=400 if form.is_bound else 200,
        nav="collect",
    )


@collector_required
@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, visit_id) -> HttpResponse:
    """One visit: its photos, its labels (newest first), relabel; a POST adds photos (the plain form)."""
    garden = _visit_or_404(visit_id)
    upload = AddPhotosForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        added = 0
        try:
            for file in upload.cleaned_data["photos"]:
                services.add_collected_photo(uuid.uuid4(), garden.pk, request.user, validate_photo(file))
                added += 1
        except (ValidationError, services.CollectionError) as refused:
            message = refused.messages[0] if isinstance(refused, ValidationError) else str(refused)
            messages.error(request, f"{message} ({added} photo{pluralize(added)} added before it.)")
        else:
            messages.success(request, f"Added {added} photo{pluralize(added)}.")
        return redirect("dashboard:collect-visit", visit_id=garden.pk)
    labels = list(garden.labels.all())
    current = labels[0] if labels else None
    classes = list(label_selectors.label_classes())
    relabel = VisitLabelForm(
        classes=classes, initial={"label": current.label, "evidence": current.evidence} if current else {}
    )
    return render_dashboard(
        request,
        "dashboard/collect_visit.html",
        {
            "visit": garden,
            "photos": list(garden.photos.all()),
            "labels": labels,
            "current": current,
            "is_checked": current is not None and checked.is_checked_visit_label(current.label),
            "relabel": relabel,
            "upload": upload,
            "may_add": garden.created_by_id == request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
        nav="collect",
    )


@collector_required
@require_POST
def relabel(request: HttpRequest, visit_id) -> HttpResponse:
    """A new label for a visit (checked again, a lab result came back); the old one stays in its history."""
    garden = _visit_or_404(visit_id)
    form = VisitLabelForm(request.POST, classes=list(label_selectors.label_classes()))
    if not form.is_valid():
        messages.error(request, "Choose what the plants have, or 'not sure yet'.")
        return redirect("dashboard:collect-visit", visit_id=garden.pk)
    try:
        services.relabel_visit(garden.pk, request.user, form.cleaned_data["label"], form.cleaned_data["evidence"])
    except services.CollectionError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Label saved; the earlier one is kept in the history.")
    return redirect("dashboard:collect-visit", visit_id=garden.pk)


@collector_required
@require_POST
def mark_photo(request: HttpRequest, photo_id) -> HttpResponse:
    """Leave a blurred or wrong photo out of training and the dataset (or take it back)."""
    visit_id = selectors.collected_photo_visit_id(photo_id)
    if visit_id is None:
        raise Http404("No such photo")
    services.mark_collected_photo(photo_id, unusable=request.POST.get("unusable") == "1")
    return redirect("dashboard:collect-visit", visit_id=visit_id)


@collector_required
@require_GET
def photo(request: HttpRequest, photo_id) -> HttpResponse:
    name = selectors.collected_photo_image_name(photo_id)
    if not name:
        raise Http404("No such photo")
    return _file_response(name, max_age=3600)


@collector_required
@require_GET
def photo_thumbnail(request: HttpRequest, photo_id) -> HttpResponse:
    name = selectors.collected_photo_image_name(photo_id)
    if not name:
        raise Http404("No such photo")
    try:
        thumb = ensure_thumbnail(photo_id, name)
    except (OSError, ValueError):
        raise Http404("No thumbnail") from None
    return _file_response(thumb, max_age=7 * 24 * 3600)


@collector_required
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The Collect page's own service worker (scope ``/dashboard/collect/``): the page and its files open
    without network, and photos waiting on the phone are sent by Background Sync where the browser has it.
    The farmer's worker (``/sw.js``) is left alone: none of this is cached on farmers' phones."""
    static_urls = [static(name) for name in OFFLINE_STATIC]
    context = {
        "page": reverse("dashboard:collect"),
        "scope": reverse("dashboard:collect"),
        "store_url": static("js/collect-store.js"),
        "static_urls": json.dumps(static_urls),
        "api": json.dumps(
            {"visits": reverse("dashboard:collect-api-visits"), "photos": reverse("dashboard:collect-api-photos")}
        ),
        "version": hashlib.sha256("\n".join(static_urls).encode()).hexdigest()[:12],
    }
    body = render_to_string("dashboard/collect_sw.js", context)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    patch_cache_control(response, no_cache=True, private=True)
    return get_conditional_response(request, etag=response["ETag"], response=response)
