"""The guides' screenshots, made by driving the real pages, so they show what the site shows.

A farmer sends a case of three field photos from a phone-sized page and gets the model's real answer; an
officer signs in, finds the case in the queue among seeded ones, reviews it, and the farmer's page shows the
officer's answer; then the reports and the models page. Each page is checked (no script error, the answer
the farmer was given, nothing wider than the screen) and photographed at a phone's size (360x740) and a
laptop's (1280x800), at device scale 1, as JPEG.

The pictures go to a temporary folder, unless ``SCREENSHOTS=1`` (``make screenshots``): then into
``docs/screenshots/``, which the guides and README show. So ``make test`` checks the pages without
touching the tree, and the committed pictures are refreshed on purpose.
"""

from __future__ import annotations

import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from classifier.decision import AnswerKind
from classifier.labels import services as label_services
from classifier.models import Submission
from classifier.submissions.selectors import was_given_to_farmer
from tests.dashboard_helpers import PASSWORD, diagnosed
from webapp.dashboard.presenters import answer_display
from webapp.farmer.presenters import answer_dict

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the pictures go: docs/screenshots/ with SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("SCREENSHOTS") != "1":
        return tmp_path
    # The pages' icons are emoji: without a font for them the committed pictures would show empty boxes.
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    if "emoji" not in fonts.lower():
        pytest.fail("no emoji font: `make screenshots` installs one (apt-get install fonts-noto-color-emoji)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def field_photos(folder: str, count: int, offset: int = 0) -> list[Path]:
    """Field photos from the shared data (``DATA_ROOT``), e.g. ``field-potato-magelang/late_blight``."""
    from django.conf import settings

    found = sorted((Path(settings.DATA_ROOT) / folder).glob("*.jpg"))[offset : offset + count]
    assert len(found) == count, f"{count} photos wanted in {folder}"
    return found


def small_jpeg(path: Path, side: int = 512) -> bytes:
    """A field photo as the server stores one: upright, at most ``side`` px, no EXIF."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((side, side))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def seed_cases(version, officer) -> list[Submission]:
    """A few weeks of other farmers' cases, some already reviewed, so the queue and reports have content.

    Their predictions are set by hand (``diagnosed``), each with an answer kind the shipped rule gives."""
    now = timezone.now()
    P, M = "field-potato/", "field-potato-magelang/"  # PlantDoc's and Magelang's field photos
    plan = [
        # (folder, photos, model label, confidence, answer kind, district, days ago, officer's verdict)
        (P + "early_blight", 1, "early_blight", 0.48, AnswerKind.NOT_SURE, "kabale", 1, ""),
        (M + "healthy", 3, "healthy", 0.97, AnswerKind.DIAGNOSIS, "rubanda", 2, ""),
        (P + "late_blight", 3, "late_blight", 0.71, AnswerKind.ONE_OF, "kisoro", 3, ""),
        ("field-negatives", 1, "not_potato_leaf", 0.93, AnswerKind.NOT_POTATO_LEAF, "kabale", 4, ""),
        (M + "bacterial_wilt", 6, "bacterial_wilt", 0.96, AnswerKind.DIAGNOSIS, "kisoro", 5, ""),
        (P + "early_blight", 2, "early_blight", 0.55, AnswerKind.NOT_SURE, "rubanda", 9, "early_blight"),
        (M + "late_blight", 3, "late_blight", 0.62, AnswerKind.NOT_SURE, "kabale", 16, "late_blight"),
        (M + "late_blight", 1, "late_blight", 0.51, AnswerKind.NOT_SURE, "kisoro", 23, "late_blight"),
        (M + "healthy", 3, "healthy", 0.98, AnswerKind.DIAGNOSIS, "kabale", 30, "healthy"),
        (M + "bacterial_wilt", 3, "bacterial_wilt", 0.58, AnswerKind.NOT_SURE, "rubanda", 38, "bacterial_wilt"),
        (P + "late_blight", 1, "late_blight", 0.44, AnswerKind.NOT_SURE, "kabale", 45, "late_blight"),
    ]  # fmt: skip
    cases = []
    for index, (folder, count, label, confidence, kind, district, days, verdict) in enumerate(plan):
        photo = small_jpeg(field_photos(folder, 1, offset=index)[0])
        case = diagnosed(
            version, label=label, confidence=confidence, margin=confidence - 0.6 * (1 - confidence),
            district=district, image=photo, photos=count,
            created_at=now - timedelta(days=days, hours=index), kind=kind, unsure=kind == AnswerKind.NOT_SURE,
        )  # fmt: skip
        if verdict:
            label_services.label_submission(case.pk, officer, label=verdict)
        cases.append(case)
    return cases


class Camera:
    """One browser page, photographed at the phone's size and the laptop's; it fails the test on a script
    error or a page wider than the screen."""

    def __init__(self, context, folder: Path) -> None:
        self.page = context.new_page()
        self.folder = folder
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.taken: list[Path] = []

    def fits(self, size: dict) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{self.page.url} is {width}px wide on a {size['width']}px screen"

    def both(self, name: str) -> None:
        """``<name>-phone.jpg`` and ``<name>-laptop.jpg``: the top of the page as it is now (JPEG keeps the
        farmers' photos small; the committed set stays well under 2 MB)."""
        for label, size in (("phone", PHONE), ("laptop", LAPTOP)):
            self.page.set_viewport_size(size)
            self.page.wait_for_function(
                "() => [...document.images].every(i => i.complete) && document.fonts.status === 'loaded'"
            )
            self.fits(size)
            self.page.evaluate("window.scrollTo(0, 0)")
            path = self.folder / f"{name}-{label}.jpg"
            self.page.screenshot(path=str(path), type="jpeg", quality=75, animations="disabled", caret="hide")
            self.taken.append(path)
        self.page.set_viewport_size(PHONE)
        assert self.errors == [], self.errors


def test_screenshots_of_the_farmers_and_officers_pages(
    browser, live_server, celery_worker_process, active_model, officer, shots
):
    seeded = seed_cases(active_model, officer)
    farmer_context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    farmer = Camera(farmer_context, shots)
    page = farmer.page

    # The farmer: three leaves from different plants, district, send; the answer shows in place.
    page.goto(live_server.url + "/")
    leaves = field_photos("field-potato-magelang/late_blight", 3, offset=20)
    page.set_input_files("#id_image", [str(path) for path in leaves])
    page.select_option("#id_district", "kabale")
    page.locator("#case-list li").nth(2).wait_for()
    assert page.locator("#case-list li").count() == 3
    farmer.both("farmer-upload")
    page.click("#submit-button")
    page.wait_for_url("**/s/*/", timeout=30_000)
    page.locator("#diagnosis").wait_for(timeout=30_000)
    case = Submission.objects.exclude(pk__in=[s.pk for s in seeded]).get()
    answer = answer_dict(case)
    assert answer["photos"] == 3
    assert page.inner_text("#diagnosis") == answer["title"]  # what the model and its rule really answered
    farmer.both("farmer-answer")

    # The officer, on a laptop: the queue, the farmer's case, a verdict.
    officer_context = browser.new_context(viewport=LAPTOP, device_scale_factor=1)
    desk = Camera(officer_context, shots)
    desk.page.goto(live_server.url + "/dashboard/")
    desk.page.fill("#id_username", officer.get_username())
    desk.page.fill("#id_password", PASSWORD)
    desk.page.click("#login-button")
    desk.page.wait_for_url("**/dashboard/")
    unreviewed = 1 + sum(1 for s in seeded if not s.labels.exists())
    assert desk.page.locator("#queue-grid li").count() == unreviewed
    # Bulk confirm offers a box only where the farmer was given the model's answer.
    case.refresh_from_db()
    boxes = desk.page.locator('#queue-grid input[name="ids"]').count()
    given = [s for s in [*seeded, case] if not s.labels.exists() and was_given_to_farmer(s.prediction)]
    assert boxes == len(given) > 0
    desk.both("dashboard-queue")

    desk.page.goto(live_server.url + f"/dashboard/s/{case.pk}/")
    assert desk.page.locator("#case-photos li").count() == 3
    assert desk.page.inner_text("#farmer-answer") == f"“{answer_display(case.prediction)}”"
    desk.page.check('input[name="label"][value="late_blight"]')
    desk.both("officer-review")
    desk.page.click("#confirm-button")
    desk.page.wait_for_load_state()
    assert case.labels.get(is_current=True).label == "late_blight"

    # The farmer opens her page again: the officer's answer first, the model's below it.
    page.goto(page.url)
    page.locator("#officer-answer").wait_for()
    assert page.inner_text("#diagnosis") == "Late blight"
    farmer.both("farmer-checked")

    desk.page.goto(live_server.url + "/dashboard/reports/")
    assert desk.page.locator("#weekly-chart rect").count() > 0
    swatches = desk.page.eval_on_selector_all(".legend .swatch", "all => all.map(s => s.getBoundingClientRect().width)")
    assert swatches and max(swatches) <= 12, swatches  # the legend's colour keys, not stretched to the chart
    desk.both("dashboard-reports")
    desk.page.goto(live_server.url + "/dashboard/models/")
    assert f"v{active_model.number}" in desk.page.inner_text(f"#v{active_model.number}")
    desk.both("dashboard-models")

    taken = farmer.taken + desk.taken
    assert len(taken) == 14 and all(path.stat().st_size > 5_000 for path in taken)
    farmer_context.close()
    officer_context.close()
