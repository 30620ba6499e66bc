"""A farmer's flow in a real browser: Debian's chromium driven by Playwright."""

import pytest

from tests.images import heldout_photos

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def test_farmer_uploads_a_late_blight_photo_and_sees_the_diagnosis(
    phone, live_server, celery_worker_process, active_model
):
    from classifier.advice.selectors import advice_for
    from classifier.inference import Predictor

    photo = heldout_photos("late_blight", 1)[0]
    # What the shipped model and its fitted rule answer for this photo: a disease, or honestly "not sure".
    expected = Predictor.for_version(active_model).predict(str(photo))
    assert expected.label == "late_blight"  # its best potato answer is right, sure or not
    phone.goto(live_server.url + "/")
    phone.set_input_files("#id_image", str(photo))
    phone.select_option("#id_district", "kabale")
    phone.click("#submit-button")
    phone.wait_for_url("**/s/*/", timeout=20_000)
    diagnosis = phone.locator("#diagnosis")
    diagnosis.wait_for(timeout=30_000)
    assert diagnosis.inner_text() == str(advice_for(expected.label, expected.is_unsure).title)
    assert "What to do" in phone.content()


def test_refused_file_shows_a_clear_message(phone, live_server, tmp_path):
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_bytes(b"these are notes, not a photo")
    phone.goto(live_server.url + "/")
    phone.set_input_files("#id_image", str(not_a_photo))
    phone.click("#submit-button")
    error = phone.locator("#form-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "not a photo we can read" in error.inner_text()
