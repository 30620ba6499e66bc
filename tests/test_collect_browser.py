"""Issue 27's "done when", in a real browser on a phone-sized screen: an officer, offline, opens a garden visit,
takes photos of a labelled class, comes back online; the photos arrive once each, grouped by the visit; the
counts against the learning curve update; the export holds them with their group and no EXIF."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from classifier.models import CollectedPhoto, GardenVisit, VisitLabel
from tests.dashboard_helpers import PASSWORD
from tests.images import DATA_ROOT, jpeg_with_gps
from webapp.dashboard.accounts import create_officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
# Functions, not expression strings: the page's Content-Security-Policy forbids eval.
CONTROLLED = (
    "() => !!navigator.serviceWorker.controller"
    " && navigator.serviceWorker.controller.scriptURL.endsWith('/dashboard/collect/sw.js')"
)


def is_collect_post(request) -> bool:
    return request.method == "POST" and "/dashboard/collect/api/" in request.url


def test_an_officer_collects_offline_and_the_photos_arrive_once_grouped_by_visit(
    browser, live_server, active_model, tmp_path
):
    active_model.metrics["learning_curve"] = {"late_blight": {"needed": 1600, "low": 190, "high": None, "pool": 82}}
    active_model.save(update_fields=["metrics"])
    officer = create_officer("okello", PASSWORD)
    admin = create_officer("atim", PASSWORD, admin=True)
    leaves = []
    for number, path in enumerate(sorted((DATA_ROOT / "field-potato" / "late_blight").iterdir())[:3]):
        leaves.append(tmp_path / f"IMG_{number:04d}.jpg")
        leaves[-1].write_bytes(jpeg_with_gps(path, size=(1600, 1200)))  # as a phone takes it: big, with GPS

    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    try:
        page.goto(live_server.url + "/accounts/login/?next=/dashboard/collect/")
        page.fill("#id_username", "okello")
        page.fill("#id_password", PASSWORD)
        page.click("#login-button")
        page.wait_for_url("**/dashboard/collect/")
        assert page.inner_text("#need-late_blight .checked-count") == "0"
        page.wait_for_function(CONTROLLED, timeout=15_000)  # its own worker keeps the page for offline

        context.set_offline(True)
        page.reload()  # no network in the garden: the page opens from the phone
        assert page.inner_text("h1") == "Collect photos in a garden"
        page.select_option("#id_district", "kabale")
        page.fill("#id_parish", "Bubare")
        page.check('#visit-label input[value="late_blight"]')
        page.check('#visit-evidence input[value="white_mould"]')
        page.check("#id_farmer_agreed")
        page.click("#open-visit")
        expect(page.locator("#visit-panel")).to_be_visible()
        summary = page.inner_text("#visit-summary")
        assert "Kabale, Bubare" in summary and "Late blight" in summary
        assert page.locator("#visit-offline").is_visible()
        for leaf in leaves:  # one after another, as the camera gives them
            page.set_input_files("#photo-input", str(leaf))
        expect(page.locator("#queue li")).to_have_count(3)
        expect(page.locator("#queue-summary")).to_contain_text("3 photos waiting on this phone")
        # The phone tries again on the `online` event: the attempt fails on the phone, nothing reaches the server.
        with page.expect_event("requestfailed", is_collect_post, timeout=10_000):
            page.evaluate("() => window.dispatchEvent(new Event('online'))")
        assert GardenVisit.objects.count() == 0 and CollectedPhoto.objects.count() == 0

        context.set_offline(False)  # back in town: everything goes by itself
        expect(page.locator("#queue-summary")).to_have_text("All 3 photos sent.", timeout=30_000)
        for _ in range(3):  # more `online` events, the timer, Background Sync: nothing is sent twice
            page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(1000)
        visit = GardenVisit.objects.get()
        assert (visit.district, visit.parish, visit.created_by) == ("kabale", "Bubare", officer)
        assert list(VisitLabel.objects.values_list("label", "evidence", "is_current")) == [
            ("late_blight", ["white_mould"], True)
        ]
        photos = list(CollectedPhoto.objects.all())
        assert len(photos) == 3 and {photo.visit_id for photo in photos} == {visit.pk}
        assert all(max(photo.width, photo.height) == 1024 for photo in photos)  # shrunk on the phone
        expect(page.locator("#visit-link")).to_be_visible()

        page.goto(live_server.url + "/dashboard/collect/")  # the counts against the learning curve
        assert page.inner_text("#need-late_blight .checked-count") == "3"
        assert "about 1515 more needed" in page.inner_text("#need-late_blight")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.goto(live_server.url + "/dashboard/models/")
        assert page.inner_text("#needed-late_blight .collected") == "3"
    finally:
        context.close()
    assert problems == []

    desk = Client()
    desk.force_login(admin)
    response = desk.post(
        reverse("dashboard:collect-export"),
        {"title": "Kigezi leaves", "publisher": "Kabale DLG", "licence": "CC-BY-4.0", "collected": "on"},
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = next(name for name in archive.namelist() if name.endswith("MANIFEST.csv"))
    rows = list(csv.DictReader(io.StringIO(archive.read(manifest).decode())))
    assert len(rows) == 3 and len({row["group"] for row in rows}) == 1 and rows[0]["group"].startswith("visit-")
    folder = manifest.rsplit("/", 1)[0]
    for row in rows:
        with Image.open(io.BytesIO(archive.read(f"{folder}/{row['file']}"))) as photo:
            assert not photo.getexif() and "exif" not in photo.info and "comment" not in photo.info
