"""A case of several leaves in a real browser (Debian's chromium + Playwright, phone-sized): "Add another
leaf" adds a second photo with its own progress bar, the case goes in one request, and its answer opens."""

from __future__ import annotations

from urllib.parse import urlparse

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
        with page.expect_request(lambda r: r.method == "POST" and urlparse(r.url).path == "/api/v1/submissions"):
            page.click("#submit-button")
        page.wait_for_url("**/s/*/", timeout=30_000)
        expect(page.locator("#diagnosis")).to_be_visible(timeout=60_000)
        expect(page.locator("#case-photos li")).to_have_count(2)
        case = Submission.objects.get()
        assert case.status == "done" and Photo.objects.filter(submission=case).count() == 2
        assert case.prediction.photo_count == 2
    finally:
        context.close()


def test_the_answer_comes_in_the_uploads_response_and_another_leaf_updates_it_in_place(
    browser, live_server, celery_worker_process, active_model
):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        documents, pieces = [], []

        def seen(request):
            if request.resource_type == "document":
                documents.append(request.url)
            if request.method == "PUT":
                pieces.append(request.url)

        page.on("request", seen)
        page.goto(live_server.url + "/")
        first, second = heldout_photos("late_blight", 2)
        page.set_input_files("#id_image", str(first))
        page.click("#submit-button")
        page.wait_for_url("**/s/*/", timeout=30_000)
        expect(page.locator("#diagnosis")).to_be_visible(timeout=30_000)
        case = Submission.objects.get()
        if case.status == "pending":  # the worker was still loading its model: the page asks, then reloads
            expect(page.locator("#result")).to_have_attribute("data-status", "done", timeout=30_000)
        else:
            assert documents == [live_server.url + "/"], documents  # one page load: the answer came in place

        # "Add another leaf" on the answer: the case's new answer over both, in place again.
        expect(page.locator("#add-leaf-form")).to_be_visible()
        loads = len(documents)
        page.set_input_files("#add-leaf-input", str(second))
        page.click("#add-leaf-button")
        expect(page.locator("#photo-count")).to_contain_text("2", timeout=30_000)
        assert len(documents) == loads, documents
        assert Photo.objects.filter(submission=case).count() == 2
        case.refresh_from_db()
        assert case.prediction.photo_count == 2
        # PlantVillage photos (256 px) are no bigger than the small copy: no larger copy is sent.
        page.wait_for_timeout(500)
        assert not pieces and Photo.objects.filter(submission=case).exclude(original="").count() == 0
    finally:
        context.close()
