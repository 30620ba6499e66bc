"""The installable web app (manifest, service worker at the root) and the page-weight budget,
counted from the files the upload page references, compressed as WhiteNoise serves them."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db

BUDGET_BYTES = 50 * 1024


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    for name in ("css/site.css", "js/store.js", "js/upload.js", "icons/icon.svg"):
        assert static(name) in body  # the hashed names production serves
    assert f'importScripts("{static("js/store.js")}")' in body
    assert 'addEventListener("sync"' in body
    # Checking for a new worker costs a few hundred bytes, not the whole script.
    again = client.get("/sw.js", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest?lang=cgg")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Omushaho w'ebibabi by'ebiraaya"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert collected(icon["src"]).exists(), icon["src"]


def test_pages_register_the_worker_and_link_the_manifest(client):
    html = client.get("/").content.decode()
    assert f'<script src="{static("js/sw-register.js")}" data-sw="/sw.js" defer></script>' in html
    assert "<script>" not in html  # the Content-Security-Policy forbids inline scripts
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in html
    assert f'src="{static("js/store.js")}"' in html


def test_the_pages_small_copy_is_the_one_the_rule_was_fitted_on():
    """photos.js sends what training/field/served_views.py emulates: change both together."""
    from training.field.served_views import SMALL_JPEG_QUALITY, SMALL_SIDE

    source = Path(finders.find("js/photos.js")).read_text()
    side = re.search(r"var SMALL_SIDE = (\d+);", source)
    quality = re.search(r"var SMALL_QUALITY = ([0-9.]+);", source)
    assert side and quality, "photos.js lost its small copy's constants"
    assert int(side.group(1)) == SMALL_SIDE and round(100 * float(quality.group(1))) == SMALL_JPEG_QUALITY


def referenced_assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"?]+)"', html)


def collected(url: str) -> Path:
    """The file WhiteNoise serves for a static URL: collectstatic's output (hashed names)."""
    return Path(settings.STATIC_ROOT) / url.removeprefix(settings.STATIC_URL)


def gzipped_size(url: str) -> int:
    return len(gzip.compress(collected(url).read_bytes(), 9))


@pytest.mark.parametrize("language", ["en", "cgg", "rw"])
def test_first_load_of_the_upload_page_fits_the_budget(client, language):
    """HTML, CSS, scripts, manifest, icon and service worker, gzip-compressed: at most 50 KB."""
    response = client.get(f"/?lang={language}", headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"  # the page itself is compressed
    html = gzip.decompress(response.content).decode()
    sizes = {"page": len(response.content), "page again (cached by the worker)": len(response.content)}
    for url in referenced_assets(html):
        sizes[url] = gzipped_size(url)
    manifest = client.get(f"/manifest.webmanifest?lang={language}", headers={"accept-encoding": "gzip"})
    sizes["manifest"] = len(manifest.content)
    sizes["icon-192.png"] = len(collected(static("icons/icon-192.png")).read_bytes())
    worker = client.get("/sw.js", headers={"accept-encoding": "gzip"})
    sizes["sw.js"] = len(worker.content)
    for url in re.findall(r'"(/static/[^"]+)"', gzip.decompress(worker.content).decode()):
        sizes.setdefault(url, gzipped_size(url))
    total = sum(sizes.values())
    assert {static("css/site.css"), static("js/store.js"), static("js/upload.js")} <= set(sizes)
    assert total <= BUDGET_BYTES, sizes
    assert not re.search(r'(?:href|src)="(?:https?:)?//', html), "no third-party hosts"
