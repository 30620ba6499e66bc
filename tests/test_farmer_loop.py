"""The officer's verdict reaches the farmer: the result page, the API, the phone number on the
upload form, districts in any case, the queue that puts farmers without an answer first, and the
report of how long they wait."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from classifier import reports
from classifier.advice import selectors as advice_selectors
from classifier.labels import services as label_services
from classifier.models import Prediction, Submission
from tests.dashboard_helpers import diagnosed
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


def upload(client, path="/api/v1/submissions", **fields):
    photo = SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")
    return client.post(path, {"image": photo, **fields})


def api(client, submission):
    return client.get(reverse("api-submission-detail", args=[submission.pk])).json()


# -- the farmer's page and the API ------------------------------------------------------------------


def test_api_gains_the_officers_answer_titled_in_the_requests_language(client, active_model, officer):
    submission = diagnosed(active_model, label="healthy", confidence=0.4)
    assert api(client, submission)["review"] is None

    label_services.label_submission(submission.pk, officer, label="late_blight")
    review = api(client, submission)["review"]
    assert review["label"] == "late_blight" and review["title"] == "Late blight"
    assert timezone.datetime.fromisoformat(review["reviewed_at"]) <= timezone.now()
    client.cookies["lang"] = "rw"
    with translation.override("rw"):  # the table's row, or the code default, in Kinyarwanda
        in_kinyarwanda = str(advice_selectors.advice_for("late_blight", False, "rw").title)
    assert in_kinyarwanda != "Late blight" and api(client, submission)["review"]["title"] == in_kinyarwanda

    label_services.label_submission(submission.pk, officer, reject_reason="unusable")
    client.cookies["lang"] = "en"
    assert api(client, submission)["review"]["label"] == "unusable"
    assert api(client, submission)["review"]["title"] == "Your photo could not be used"


def test_result_page_shows_the_officers_answer_first_then_the_models(client, active_model, officer):
    submission = diagnosed(active_model, label="healthy", confidence=0.4)
    page = client.get(reverse("submission", args=[submission.pk])).content.decode()
    assert 'id="officer-answer"' not in page
    assert "An extension officer will look at your photo" in page  # the model was not sure
    assert 'data-reviewed-at=""' in page  # result.js keeps asking

    verdict = label_services.label_submission(submission.pk, officer, label="early_blight")
    page = client.get(reverse("submission", args=[submission.pk])).content.decode()
    officer_answer, model_answer = page.index('id="officer-answer"'), page.index('id="model-answer"')
    assert officer_answer < model_answer
    assert "An extension officer checked your photo" in page
    assert '<h1 id="diagnosis">Early blight</h1>' in page
    assert "What to do" in page and "An extension officer will look" not in page
    assert "The first answer, from the computer" in page and "We are not sure" in page[model_answer:]
    assert f'data-reviewed-at="{verdict.created_at.isoformat()}"' in page


def test_an_unusable_photo_asks_for_a_new_one_with_the_tips(client, active_model, officer):
    submission = diagnosed(active_model, label="late_blight", confidence=0.9)
    label_services.label_submission(submission.pk, officer, reject_reason="unusable")
    page = client.get(reverse("submission", args=[submission.pk])).content.decode()
    assert '<h1 id="diagnosis">Your photo could not be used</h1>' in page
    assert "Please take a new photo of one leaf" in page
    assert '<details class="tips" open>' in page and "One leaf, close up" in page


def test_a_sure_answer_does_not_promise_an_officer(client, active_model):
    submission = diagnosed(active_model, label="late_blight", confidence=0.95)
    page = client.get(reverse("submission", args=[submission.pk])).content.decode()
    assert "We are 95% sure." in page and "An extension officer will look" not in page


def test_the_promise_mentions_sms_only_when_a_number_was_given(client, active_model):
    without = diagnosed(active_model, label="not_potato_leaf", confidence=0.9)
    with_phone = diagnosed(active_model, label="not_potato_leaf", confidence=0.9, phone="+256772123456")
    assert "My photos" in client.get(reverse("submission", args=[without.pk])).content.decode()
    assert "by SMS" in client.get(reverse("submission", args=[with_phone.pk])).content.decode()


# -- the upload form: district in any case, an optional phone number --------------------------------


@pytest.mark.parametrize("given", ["Kabale", "kabale", "KABALE", " Kabale "])
def test_api_accepts_a_district_by_its_name_in_any_case(client, given):
    response = upload(client, district=given)
    assert response.status_code == 202, response.json()
    assert Submission.objects.get().district == "kabale"


def test_an_unknown_district_lists_the_values_accepted(client):
    response = upload(client, district="Nairobi")
    assert response.status_code == 400
    assert response.json()["errors"]["district"] == [
        "Unknown district. Choose one of: rubanda, kabale, kisoro, other (any case)."
    ]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("given", ["0772 123456", "+256 772 123456", "0772123456", "+256772123456"])
def test_a_ugandan_number_is_accepted_in_local_or_international_form(client, given):
    assert upload(client, phone=given).status_code == 202
    assert str(Submission.objects.get().phone) == "+256772123456"


@pytest.mark.parametrize("given", ["12345", "0772 12", "not a number", "+1 202 555 01"])
def test_a_wrong_number_is_refused_with_an_example_and_nothing_is_stored(client, given):
    response = upload(client, phone=given)
    assert response.status_code == 400
    assert response.json()["errors"] == {"phone": ["This phone number does not look right. Example: 0772 123456."]}
    assert not Submission.objects.exists()


def test_the_page_form_keeps_the_language_and_the_number(client):
    client.cookies["lang"] = "cgg"
    response = upload(client, path="/", phone="0772 123456", district="Kisoro")
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert (submission.language, str(submission.phone), submission.district) == ("cgg", "+256772123456", "kisoro")


def test_the_upload_page_explains_what_the_number_is_for(client):
    page = client.get("/").content.decode()
    assert 'type="tel"' in page and 'name="phone"' in page
    assert "We use it for nothing else, and delete it 30 days later." in page


def test_the_number_is_never_in_the_csv_export_or_the_admin(client, active_model, officer, admin_client):
    submission = diagnosed(active_model, phone="+256772123456")
    client.force_login(officer)
    body = b"".join(client.get(reverse("dashboard:export") + "?status=all").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 2 and str(submission.pk) in rows[1]
    assert "772123456" not in body and not any("phone" in column for column in rows[0])
    admin_page = admin_client.get(reverse("admin:classifier_submission_change", args=[submission.pk]))
    assert admin_page.status_code == 200 and "772123456" not in admin_page.content.decode()


# -- the officers' queue and reports ------------------------------------------------------------------


def test_queue_puts_farmers_without_an_answer_first_oldest_first(client, active_model, officer):
    now = timezone.now()
    sure_low = diagnosed(active_model, label="healthy", confidence=0.65, created_at=now - timedelta(hours=9))
    sure_high = diagnosed(active_model, label="late_blight", confidence=0.9, created_at=now - timedelta(hours=10))
    unsure_new = diagnosed(active_model, label="healthy", confidence=0.5, created_at=now - timedelta(hours=1))
    not_leaf_old = diagnosed(active_model, label="not_potato_leaf", confidence=0.99, created_at=now - timedelta(days=2))
    unsure_mid = diagnosed(active_model, label="early_blight", confidence=0.3, created_at=now - timedelta(hours=5))
    client.force_login(officer)
    page = client.get(reverse("dashboard:queue")).content.decode()
    order = sorted(
        [sure_low, sure_high, unsure_new, not_leaf_old, unsure_mid], key=lambda s: page.index(f'data-id="{s.pk}"')
    )
    assert order == [not_leaf_old, unsure_mid, unsure_new, sure_low, sure_high]
    assert "Farmer has no answer · waiting 2\xa0days" in page
    # Keyset navigation walks the same order.
    review = client.get(reverse("dashboard:review", args=[unsure_new.pk])).content.decode()
    assert reverse("dashboard:review", args=[sure_low.pk]) in review


def test_report_shows_time_to_answer_and_who_still_waits(client, active_model, officer):
    start = timezone.now() - timedelta(days=1)
    hours = [1, 2, 3, 4, 20]
    for n in hours:
        photo = diagnosed(active_model, label="healthy", confidence=0.4, created_at=start)
        verdict = label_services.label_submission(photo.pk, officer, label="healthy")
        Prediction.objects.filter(pk=photo.pk).update(answered_at=start + timedelta(hours=n))
        assert verdict.submission_id == photo.pk
    diagnosed(active_model, label="healthy", confidence=0.4, created_at=start)  # still waiting
    diagnosed(active_model, label="late_blight", confidence=0.9, created_at=start)  # has the model's answer
    today = timezone.localdate()
    report = reports.answer_time_report(today - timedelta(days=7), today)
    answered = [row for row in report.weeks if row.answered]
    assert sum(row.answered for row in answered) == 5 and report.still_waiting == 1
    assert report.districts[0].key == "kabale" and report.districts[0].median_hours == pytest.approx(3)
    # The inclusive 90th percentile of 1, 2, 3, 4, 20 hours: 4 + 0.6 * (20 - 4).
    assert report.districts[0].p90_hours == pytest.approx(13.6)

    client.force_login(officer)
    page = client.get(reverse("dashboard:reports")).content.decode()
    assert "1 farmer still waiting" in page and 'id="answer-time-weeks"' in page
    assert "<td>3.0</td><td>13.6</td>" in page
