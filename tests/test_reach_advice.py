"""Advice: seeded per answer and language, editable in the admin, shown on the result page with
the source of each step; the code defaults when a row is missing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from classifier.advice import selectors as advice_selectors
from classifier.advice.defaults import ADVICE, ADVICE_KEYS, UNSURE
from classifier.decision import Diagnosis
from classifier.models import Advice, AdviceStep, Submission
from classifier.submissions import services as submission_services
from tests.dashboard_helpers import add_stored_photo
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


def diagnosed(model_version, label="late_blight", confidence=0.93, is_unsure=False) -> Submission:
    submission = Submission()
    submission.save()
    add_stored_photo(submission, jpeg_bytes())
    top = [{"label": label, "confidence": confidence}, {"label": "healthy", "confidence": 1 - confidence}]
    diagnosis = Diagnosis(label, confidence, top, label != "not_potato_leaf", is_unsure, confidence - 0.05)
    submission_services.record_prediction(submission, model_version, diagnosis, inference_ms=5.0)
    return submission


def test_migration_seeds_every_answer_in_every_language():
    for language in ("en", "cgg", "rw"):
        labels = set(Advice.objects.filter(language=language).values_list("label", flat=True))
        assert labels == set(ADVICE_KEYS) >= {"late_blight", "early_blight", "healthy", "not_potato_leaf", UNSURE}
    english = Advice.objects.get(label="late_blight", language="en")
    assert not english.needs_review
    assert english.title == "Late blight"
    steps = list(english.steps.all())
    assert len(steps) == len(ADVICE["late_blight"].steps)
    assert all(step.source for step in steps), "every recommendation names its source"
    rukiga = Advice.objects.get(label="late_blight", language="cgg")
    assert rukiga.needs_review and rukiga.title.startswith("Late blight (endwara")
    assert "Erizooba ihaho ebibabi" in rukiga.steps.first().text


def test_result_page_shows_steps_with_their_sources(client, active_model):
    submission = diagnosed(active_model)
    html = client.get(f"/s/{submission.id}/").content.decode()
    assert '<h1 id="diagnosis">Late blight</h1>' in html
    assert "Remove and bury (do not compost)" in html
    assert "Source: CABI Plantwise factsheet for farmers: potato late blight" in html


def test_admin_edits_reach_the_farmer_without_a_deploy(client, active_model):
    submission = diagnosed(active_model)
    advice = Advice.objects.get(label="late_blight", language="cgg")
    advice.title = "Late blight (ekibabi kirwaire)"
    advice.save()
    AdviceStep.objects.filter(advice=advice).delete()
    AdviceStep.objects.create(advice=advice, position=0, text="Ihaho ebibabi erizooba.", source="Kachwekano ZARDI")
    client.cookies["lang"] = "cgg"
    html = client.get(f"/s/{submission.id}/").content.decode()
    assert "Late blight (ekibabi kirwaire)" in html
    assert "Ihaho ebibabi erizooba." in html and "Kachwekano ZARDI" in html
    assert "Erizooba ihaho ebibabi" not in html  # the old step is gone
    # English is untouched.
    client.cookies["lang"] = "en"
    assert "Remove and bury (do not compost)" in client.get(f"/s/{submission.id}/").content.decode()


def test_code_defaults_when_no_row_exists(client, active_model):
    Advice.objects.all().delete()
    submission = diagnosed(active_model, label="early_blight")
    html = client.get(f"/s/{submission.id}/?lang=rw").content.decode()
    assert "Alternariya (early blight)" in html  # the .po translation of the code default
    assert "Kura amababi yo hasi arwaye" in html


def test_unsure_answers_get_the_unsure_advice(client, active_model):
    submission = diagnosed(active_model, confidence=0.41, is_unsure=True)
    html = client.get(f"/s/{submission.id}/").content.decode()
    assert '<h1 id="diagnosis">We are not sure</h1>' in html
    assert "contact your extension officer now" in html


def test_selector_prefers_the_row_then_the_base_language():
    Advice.objects.filter(label="healthy", language="en").update(title="Healthy (edited)")
    assert advice_selectors.advice_for("healthy", False, "en").title == "Healthy (edited)"
    assert advice_selectors.advice_for("healthy", False, "en-gb").title == "Healthy (edited)"
    assert advice_selectors.advice_for("some_new_label", False, "en").title == "Diagnosis"  # the general advice


def test_advice_is_in_the_admin(client):
    Advice.objects.filter(label="late_blight", language="cgg").update(needs_review=True)
    client.force_login(User.objects.create_superuser("admin", password="x"))
    listing = client.get("/admin/classifier/advice/?needs_review__exact=1")
    assert listing.status_code == 200 and "late_blight" in listing.content.decode()
    row = Advice.objects.get(label="late_blight", language="cgg")
    change = client.get(f"/admin/classifier/advice/{row.pk}/change/")
    assert change.status_code == 200 and "steps-TOTAL_FORMS" in change.content.decode()


def test_a_not_sure_answer_shows_no_disease_percentage_and_the_api_says_what_the_farmer_was_told(
    client, active_model
):
    """Issue 24, item 5: "We are not sure" above "Late blight 84%" contradicts itself. The page shows no
    percentage for a "not sure"; the API keeps the model's raw output in ``prediction`` and says in
    ``answer`` what the farmer was told."""
    unsure = diagnosed(active_model, confidence=0.838, is_unsure=True)
    html = client.get(f"/s/{unsure.id}/").content.decode()
    assert '<h1 id="diagnosis">We are not sure</h1>' in html
    assert "What the model saw" not in html and "84%" not in html
    body = client.get(f"/api/v1/submissions/{unsure.id}").json()
    assert body["prediction"]["label"] == "late_blight" and body["prediction"]["is_unsure"]
    assert body["answer"] == {"kind": "not_sure", "labels": [], "title": "We are not sure", "photos": 1}

    sure = diagnosed(active_model, confidence=0.97)
    assert "What the model saw" in client.get(f"/s/{sure.id}/").content.decode()
    answer = client.get(f"/api/v1/submissions/{sure.id}").json()["answer"]
    assert answer == {"kind": "diagnosis", "labels": ["late_blight"], "title": "Late blight", "photos": 1}
    away = diagnosed(active_model, label="not_potato_leaf", confidence=0.9)
    assert client.get(f"/api/v1/submissions/{away.id}").json()["answer"]["kind"] == "not_potato_leaf"


def test_the_farmers_own_check_picks_the_advice_and_reaches_the_officer_and_the_csv(client, active_model, officer):
    """A late-blight answer offers the blight check; "no" (no white mould: weak evidence) keeps the
    late-blight advice (spray now), never swaps in early blight's slower advice; "yes" on an early-blight
    answer shows late blight's. The answer never changes the model's label, and is stored for the officer
    and the CSV."""
    from django.urls import reverse

    from tests.dashboard_helpers import diagnosed as diagnosed_case

    case = diagnosed_case(active_model, label="late_blight", confidence=0.97, unsure=False)
    page = client.get(reverse("submission", args=[case.pk])).content.decode()
    assert 'id="field-check"' in page and "white mould" in page and "CABI Plantwise" in page
    assert client.post(reverse("submission-check", args=[case.pk]), {"answer": "maybe"}).status_code == 400
    response = client.post(reverse("submission-check", args=[case.pk]), {"answer": "no"})
    assert response.status_code == 302
    page = client.get(reverse("submission", args=[case.pk])).content.decode()
    early_first_step, late_first_step = (str(ADVICE[name].steps[0].text) for name in ("early_blight", "late_blight"))
    assert late_first_step in page and early_first_step not in page and 'id="diagnosis">Late blight<' in page
    early = diagnosed_case(active_model, label="early_blight", confidence=0.97, unsure=False)
    client.post(reverse("submission-check", args=[early.pk]), {"answer": "yes"})  # white mould: late blight's
    page = client.get(reverse("submission", args=[early.pk])).content.decode()
    assert late_first_step in page and 'id="diagnosis">Early blight<' in page
    assert client.get(reverse("api-submission-detail", args=[case.pk])).json()["prediction"]["label"] == "late_blight"
    client.force_login(officer)
    review = client.get(reverse("dashboard:review", args=[case.pk])).content.decode()
    assert "Late or early blight: No" in review
    csv_text = b"".join(client.get(reverse("dashboard:export")).streaming_content).decode()
    header, row = csv_text.splitlines()[:2]
    assert header.endswith("photos,answer_kind,answer_labels,farmer_check,farmer_check_answer")
    assert row.endswith("1,diagnosis,late_blight,blight,no")


def test_a_leaf_blight_early_or_late_answer_has_advice_for_both(client, active_model):
    from django.urls import reverse

    from tests.dashboard_helpers import diagnosed as diagnosed_case

    case = diagnosed_case(active_model, label="late_blight", confidence=0.6, unsure=True, kind="one_of", photos=3)
    body = client.get(reverse("api-submission-detail", args=[case.pk])).json()
    assert body["answer"] == {
        "kind": "one_of",
        "labels": ["early_blight", "late_blight"],
        "title": "Leaf blight: early or late",
        "photos": 3,
    }
    page = client.get(reverse("submission", args=[case.pk])).content.decode()
    assert "Leaf blight: early or late" in page and "mancozeb" in page and 'id="field-check"' in page
    assert "We are" not in page.split('id="model-answer"')[1].split("</section>")[0]  # no percentage
    assert page.count('class="case-photos"') == 1
    assert client.get(reverse("submission-photo", args=[case.pk, 2])).status_code == 200
    assert client.get(reverse("submission-photo", args=[case.pk, 3])).status_code == 404
