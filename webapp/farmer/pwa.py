"""The installable web app: the manifest, and the service worker served from the site root so
that its scope covers every farmer page."""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

# What the upload page needs offline, besides the page itself.
OFFLINE_STATIC = [
    "css/site.css",
    "js/sw-register.js",
    "js/photos.js",
    "js/store.js",
    "js/upload.js",
    "js/result.js",
    "icons/icon.svg",
]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    static_urls = [static(name) for name in OFFLINE_STATIC]
    context = {
        "home": reverse("upload"),
        "api": reverse("api-submission-create"),
        "store_url": static("js/store.js"),
        "static_urls": json.dumps(static_urls),
        # A new deploy (new hashed file names) makes a new worker with new caches.
        "version": hashlib.sha256("\n".join(static_urls).encode()).hexdigest()[:12],
    }
    body = render_to_string("pwa/sw.js", context)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["ETag"] = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    patch_cache_control(response, no_cache=True)
    return get_conditional_response(request, etag=response["ETag"], response=response)


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("Potato leaf doctor"),
        "short_name": _("Leaf doctor"),
        "description": _("Take a close photo of one leaf. We will tell you what we see and what to do."),
        "lang": get_language(),
        "start_url": reverse("upload"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f8f3",
        "theme_color": "#2f6b2f",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    patch_cache_control(response, max_age=86400)
    return response
