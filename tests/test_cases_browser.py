"""A case of several leaves in a real browser (Debian's chromium + Playwright, phone-sized): "Add another
leaf" adds a second photo with its own progress bar, the case goes in one request, and its answer opens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from classifier.models import Photo, Submission
from tests.images import heldout_photos

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}


def test_two_leaves_with_add_another_leaf_make_one_case_and_its_answer(
    browser, live_server, celery_worker_process, active_model
):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        expect(page.locator("#case-guidance")).to_contain_text("Photograph 3 sick leaves from different plants")
        first, second = heldout_photos("late_blight", 2)
        page.set_input_files("#id_image", str(first))
        with page.expect_file_chooser() as chooser:
            page.click("#add-leaf")
        chooser.value.set_files(str(second))
        expect(page.locator("#case-list li")).to_have_count(2)
        expect(page.locator("#case-list li .progress-bar")).to_have_count(2)
        with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/submissions")):
            page.click("#submit-button")
        page.wait_for_url("**/s/*/", timeout=30_000)
        expect(page.locator("#diagnosis")).to_be_visible(timeout=60_000)
        expect(page.locator("#case-photos li")).to_have_count(2)
        case = Submission.objects.get()
        assert case.status == "done" and Photo.objects.filter(submission=case).count() == 2
        assert case.prediction.photo_count == 2
    finally:
        context.close()
