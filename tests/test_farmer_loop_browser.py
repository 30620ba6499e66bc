"""The whole loop in real browsers: a farmer uploads and is told "not sure"; an officer signs in and
corrects the label; the farmer's open result page shows the officer's answer by itself, and the SMS
goes out in her language through the console backend of a real worker."""

from __future__ import annotations

import pytest
from django.utils import translation

from classifier.advice.selectors import advice_for
from classifier.models import SmsMessage, Submission
from classifier.sms.messages import verdict_sms
from tests.conftest import wait_until
from tests.dashboard_helpers import PASSWORD
from tests.images import heldout_photos
from webapp.dashboard.accounts import create_officer

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def title_in(language: str, label: str, is_unsure: bool) -> str:
    """An answer's title as a farmer reading ``language`` sees it (from the table or the code default)."""
    with translation.override(language):
        return str(advice_for(label, is_unsure, language).title)


PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}


def test_the_officers_answer_reaches_the_open_result_page_and_the_farmers_phone(
    browser, live_server, celery_worker_process, active_model, settings
):
    settings.SMS_DELAY_SECONDS = 1
    create_officer("okello", PASSWORD)
    errors = []

    farmer = browser.new_context(**PHONE)
    farmer.add_cookies([{"name": "lang", "value": "cgg", "url": live_server.url}])
    page = farmer.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/")
    page.set_input_files("#id_image", str(heldout_photos("late_blight", 1)[0]))
    page.select_option("#id_district", "kabale")
    page.fill("#id_phone", "0772 123456")
    page.click("#submit-button")
    page.wait_for_url("**/s/*/", timeout=30_000)
    page.locator("#diagnosis").wait_for(timeout=30_000)
    assert page.inner_text("#diagnosis") == title_in("cgg", "late_blight", True)  # "not sure", in Rukiga
    assert page.locator("#officer-will-look").is_visible()
    submission = Submission.objects.get()
    assert (str(submission.phone), submission.language) == ("+256772123456", "cgg")

    officer = browser.new_context(**PHONE)
    desk = officer.new_page()
    desk.goto(live_server.url + f"/dashboard/s/{submission.pk}/")
    desk.fill("#id_username", "okello")
    desk.fill("#id_password", PASSWORD)
    desk.click("#login-button")
    desk.wait_for_url(f"**/dashboard/s/{submission.pk}/")
    desk.check('input[name="label"][value="late_blight"]')
    desk.click("#confirm-button")
    desk.wait_for_load_state()
    officer.close()

    # The farmer's page, left open, changes by itself (result.js asks; nobody reloads by hand).
    page.locator("#officer-answer").wait_for(timeout=60_000)
    assert page.inner_text("#diagnosis") == title_in("cgg", "late_blight", False)
    assert page.locator("#model-answer").is_visible() and not page.locator("#officer-will-look").count()
    # The service worker keeps result pages for offline use, but online it asks the network first:
    # opening the page again shows the officer's answer, not the copy kept before it.
    assert page.evaluate("() => !!navigator.serviceWorker.controller")
    page.goto(page.url)
    assert page.inner_text("#diagnosis") == title_in("cgg", "late_blight", False)

    wait_until(lambda: SmsMessage.objects.filter(status="sent").exists(), 30, celery_worker_process.log_path)
    message = SmsMessage.objects.get()
    assert message.language == "cgg" and message.backend == "console"
    assert message.body == verdict_sms(submission.pk, "late_blight", "cgg")
    assert message.body.startswith("Leaf doctor: omuhabuzi akeebere ekishushani kyawe:")
    wait_until(lambda: f"SMS to +256******456: {message.body}" in celery_worker_process.log_path.read_text(), 10)
    assert errors == []
    farmer.close()
