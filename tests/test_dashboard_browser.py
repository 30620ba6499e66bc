"""An officer in a real browser: signs in on a phone-sized screen and labels three photos by keyboard."""

import pytest

from classifier.models import Label
from tests.dashboard_helpers import PASSWORD, diagnosed, without_keras_file
from tests.images import jpeg_bytes
from webapp.dashboard.accounts import create_officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def test_officer_logs_in_and_labels_three_photos_with_the_keyboard(phone, live_server, active_model):
    officer = create_officer("okello", PASSWORD)
    without_keras_file(active_model)
    photos = [
        diagnosed(active_model, label="late_blight", confidence=0.41, image=jpeg_bytes(size=(900, 700))),
        diagnosed(active_model, label="healthy", confidence=0.52, image=jpeg_bytes(color=(90, 140, 40))),
        diagnosed(active_model, label="early_blight", confidence=0.63, image=jpeg_bytes(color=(120, 90, 40))),
    ]
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))

    phone.goto(live_server.url + "/dashboard/")
    phone.wait_for_url("**/accounts/login/?next=/dashboard/")
    phone.fill("#id_username", "okello")
    phone.fill("#id_password", PASSWORD)
    phone.click("#login-button")
    phone.wait_for_url("**/dashboard/")
    assert phone.locator("#queue-grid li").count() == 3
    # Thumbnails load (small, from the thumbnail view), and the page fits a phone's width.
    phone.wait_for_function("() => [...document.querySelectorAll('#queue-grid img')].every(i => i.naturalWidth > 0)")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.click(f'#queue-grid li[data-id="{photos[0].pk}"] a')
    phone.wait_for_url(f"**/dashboard/s/{photos[0].pk}/")
    assert "No heatmap for this model version" in phone.inner_text("#heatmap")

    # 1: the model guessed late blight, but the farmer was told "not sure": nothing is preselected, so
    # Enter alone records nothing; "4" picks late blight (the model's guess), Enter confirms it.
    assert phone.locator('#label-form input[name="label"]:checked').count() == 0
    phone.keyboard.press("4")
    assert "Confirm" in phone.inner_text("#confirm-button")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/dashboard/s/{photos[1].pk}/")
    # 2: the model said healthy; "2" picks early blight (after bacterial wilt), Enter records the correction.
    phone.keyboard.press("2")  # classes in order: bacterial wilt, early blight, ...
    assert "Correct to: Early blight" in phone.inner_text("#confirm-button")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/dashboard/s/{photos[2].pk}/")
    # K goes back, J forward again; then X rejects the photo as not a potato leaf.
    phone.keyboard.press("k")
    phone.wait_for_url(f"**/dashboard/s/{photos[1].pk}/")
    assert "Reviewed:" in phone.inner_text("#current-label")
    phone.keyboard.press("j")
    phone.wait_for_url(f"**/dashboard/s/{photos[2].pk}/")
    phone.keyboard.press("x")
    phone.wait_for_url("**/dashboard/")
    assert "All caught up" in phone.inner_text("#empty-state")
    assert errors == []

    verdicts = {label.submission_id: label for label in Label.objects.filter(is_current=True)}
    assert [(verdicts[p.pk].action, verdicts[p.pk].label) for p in photos] == [
        ("confirm", "late_blight"),
        ("correct", "early_blight"),
        ("reject", "not_potato_leaf"),
    ]
    assert {label.created_by_id for label in verdicts.values()} == {officer.pk}
