"""Labelling: confirm, correct (any class, admin-added ones too), reject, bulk confirm; the audit trail."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from classifier.labels import heatmaps
from classifier.labels import selectors as label_selectors
from classifier.labels import services as label_services
from classifier.models import Heatmap, Label, LabelClass, Prediction, SmsMessage
from tests.dashboard_helpers import (
    add_stored_photo,
    diagnosed,
    prediction_of,
    without_keras_file,
)

pytestmark = pytest.mark.django_db


def label(client, submission, query="", **data):
    return client.post(reverse("dashboard:label", args=[submission.pk]), {"q": query, **data})


def test_confirm_correct_and_reject_through_the_page(client, officer, active_model):
    first = diagnosed(active_model, confidence=0.4)
    second = diagnosed(active_model, confidence=0.5, label="healthy")
    third = diagnosed(active_model, confidence=0.6)
    fourth = diagnosed(active_model, confidence=0.7)
    client.force_login(officer)

    response = label(client, first, label="late_blight")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:review", args=[second.pk])
    response = label(client, second, label="early_blight")
    assert response["Location"] == reverse("dashboard:review", args=[third.pk])
    label(client, third, label="late_blight", reject_reason="not_potato_leaf")
    label(client, fourth, reject_reason="unusable")

    verdicts = {v.submission_id: v for v in Label.objects.all()}
    assert (verdicts[first.pk].action, verdicts[first.pk].label) == ("confirm", "late_blight")
    assert (verdicts[second.pk].action, verdicts[second.pk].label) == ("correct", "early_blight")
    assert verdicts[second.pk].predicted_label == "healthy"
    assert (verdicts[third.pk].action, verdicts[third.pk].label, verdicts[third.pk].reject_reason) == (
        "reject",
        "not_potato_leaf",
        "not_potato_leaf",
    )
    assert (verdicts[fourth.pk].action, verdicts[fourth.pk].label, verdicts[fourth.pk].reject_reason) == (
        "reject",
        "",
        "unusable",
    )
    assert {v.created_by for v in verdicts.values()} == {officer}
    # The last one goes back to the (now empty) queue.
    assert "All caught up" in client.get(reverse("dashboard:queue")).content.decode()


def test_next_photo_keeps_the_filters(client, officer, active_model):
    a = diagnosed(active_model, confidence=0.3, district="kisoro")
    diagnosed(active_model, confidence=0.4, district="kabale")
    c = diagnosed(active_model, confidence=0.5, district="kisoro")
    client.force_login(officer)
    response = label(client, a, query="district=kisoro", label="late_blight")
    assert response["Location"] == reverse("dashboard:review", args=[c.pk]) + "?district=kisoro"


def test_relabelling_keeps_who_when_and_what_it_replaced(client, officer, dashboard_admin, active_model):
    submission = diagnosed(active_model, label="late_blight")
    first = label_services.label_submission(submission.pk, officer, "late_blight")
    second = label_services.label_submission(submission.pk, dashboard_admin, "early_blight")
    third = label_services.label_submission(submission.pk, officer, reject_reason="unusable")

    rows = list(Label.objects.filter(submission=submission).order_by("id"))
    assert [r.pk for r in rows] == [first.pk, second.pk, third.pk]
    assert [r.is_current for r in rows] == [False, False, True]
    assert rows[1].replaces_id == first.pk and rows[2].replaces_id == second.pk
    assert [(r.created_by.username, r.action, r.label) for r in rows] == [
        ("okello", "confirm", "late_blight"),
        ("atim", "correct", "early_blight"),
        ("okello", "reject", ""),
    ]
    assert rows[0].created_at <= rows[1].created_at <= rows[2].created_at
    # The prediction's review columns follow the current label.
    prediction = prediction_of(submission)
    assert (prediction.review_status, prediction.reviewed_label) == ("rejected", "")

    client.force_login(officer)
    html = client.get(reverse("dashboard:review", args=[submission.pk])).content.decode()
    assert "History (3)" in html and "atim" in html and "(replaced)" in html


def test_the_same_verdict_twice_is_recorded_once(officer, active_model):
    submission = diagnosed(active_model)
    one = label_services.label_submission(submission.pk, officer, "healthy")
    two = label_services.label_submission(submission.pk, officer, "healthy")
    assert one == two and Label.objects.count() == 1


def test_picking_the_reject_class_is_a_reject_or_a_confirmation(officer, active_model):
    leaf = diagnosed(active_model, label="healthy")
    not_leaf = diagnosed(active_model, label="not_potato_leaf")
    assert label_services.label_submission(leaf.pk, officer, "not_potato_leaf").action == "reject"
    verdict = label_services.label_submission(not_leaf.pk, officer, reject_reason="not_potato_leaf")
    assert (verdict.action, verdict.label) == ("confirm", "not_potato_leaf")


def test_unknown_class_or_undiagnosed_photo_is_refused(client, officer, active_model):
    submission = diagnosed(active_model)
    with pytest.raises(label_services.LabellingError, match="Unknown class"):
        label_services.label_submission(submission.pk, officer, "potato_virus_y")
    client.force_login(officer)
    response = label(client, submission, label="potato_virus_y")
    assert response["Location"] == reverse("dashboard:review", args=[submission.pk])
    assert not Label.objects.exists()
    with pytest.raises(label_services.LabellingError, match="no diagnosis"):
        label_services.label_submission("00000000-0000-0000-0000-000000000000", officer, "healthy")


def test_admin_adds_potato_virus_y_and_officers_can_pick_it(client, officer, dashboard_admin, active_model):
    client.force_login(officer)
    assert client.post(reverse("dashboard:add-class"), {"name": "potato_virus_y"}).status_code == 403

    client.force_login(dashboard_admin)
    response = client.post(reverse("dashboard:add-class"), {"name": "potato_virus_y", "display_name": "Potato virus Y"})
    assert response.status_code == 302
    added = LabelClass.objects.get(name="potato_virus_y")
    assert added.created_by == dashboard_admin and not added.is_reject
    duplicate = client.post(reverse("dashboard:add-class"), {"name": "potato_virus_y"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()
    assert client.post(reverse("dashboard:add-class"), {"name": "Bad Name!"}).status_code == 400

    submission = diagnosed(active_model, label="late_blight")
    client.force_login(officer)
    html = client.get(reverse("dashboard:review", args=[submission.pk])).content.decode()
    assert 'value="potato_virus_y"' in html
    label(client, submission, label="potato_virus_y")
    verdict = Label.objects.get()
    assert (verdict.action, verdict.label) == ("correct", "potato_virus_y")
    assert [lbl.label for lbl in label_selectors.current_labels()] == ["potato_virus_y"]


def test_registering_a_model_adds_its_classes(active_model):
    assert list(LabelClass.objects.values_list("name", "is_reject")) == [
        ("bacterial_wilt", False),
        ("early_blight", False),
        ("healthy", False),
        ("late_blight", False),
        ("not_potato_leaf", True),
    ]


def test_bulk_confirm_skips_photos_reviewed_meanwhile(client, officer, dashboard_admin, active_model):
    photos = [diagnosed(active_model, label=name) for name in ("late_blight", "healthy", "early_blight")]
    label_services.label_submission(photos[2].pk, dashboard_admin, "healthy")
    client.force_login(officer)
    response = client.post(
        reverse("dashboard:bulk-confirm"), {"ids": [str(p.pk) for p in photos], "q": "district=kabale"}
    )
    assert response["Location"] == reverse("dashboard:queue") + "?district=kabale"
    current = {lbl.submission_id: lbl for lbl in label_selectors.current_labels()}
    assert (current[photos[0].pk].action, current[photos[0].pk].label) == ("confirm", "late_blight")
    assert (current[photos[1].pk].label, current[photos[1].pk].created_by) == ("healthy", officer)
    assert (current[photos[2].pk].label, current[photos[2].pk].created_by) == ("healthy", dashboard_admin)
    assert Label.objects.count() == 3
    assert set(Prediction.objects.values_list("review_status", flat=True)) == {"confirmed", "corrected"}
    messages = [str(m) for m in client.get(reverse("dashboard:queue")).context["messages"]]
    assert "Confirmed 2 photos." in messages and any("already reviewed" in m for m in messages)


def test_bulk_confirm_never_turns_a_not_sure_into_an_officers_word(client, officer, active_model, settings):
    """An apple leaf the model guessed as early blight (0.7) while telling the farmer "not sure": bulk
    confirm must not make that guess a checked label, a retraining label, or an SMS."""
    settings.SMS_DELAY_SECONDS = 0
    given = diagnosed(active_model, label="late_blight", confidence=0.97, unsure=False)
    guessed = diagnosed(active_model, label="early_blight", confidence=0.7, unsure=True, phone="+256772123456")
    turned_away = diagnosed(active_model, label="not_potato_leaf", confidence=0.9, unsure=False)
    client.force_login(officer)

    grid = client.get(reverse("dashboard:queue")).content.decode()
    assert f'value="{given.pk}"' in grid and f'value="{turned_away.pk}"' in grid
    assert f'value="{guessed.pk}"' not in grid  # no box to tick for a "not sure"

    ids = [str(p.pk) for p in (given, guessed, turned_away)]
    response = client.post(reverse("dashboard:bulk-confirm"), {"ids": ids}, follow=True)
    current = {lbl.submission_id: lbl for lbl in label_selectors.current_labels()}
    assert set(current) == {given.pk, turned_away.pk}  # the data retraining learns from
    assert not Label.objects.filter(submission=guessed).exists()
    assert prediction_of(guessed).review_status == "unreviewed"
    assert not SmsMessage.objects.filter(submission=guessed).exists()
    review = client.get(reverse("api-submission-detail", args=[guessed.pk])).json()["review"]
    assert review is None  # the farmer is not told an officer checked it
    messages = [str(m) for m in response.context["messages"]]
    assert "Confirmed 2 photos." in messages and any("1 photo left unconfirmed" in m for m in messages)

    # An officer's own verdict on the photo's page still labels it.
    label(client, guessed, label="early_blight", reject_reason="not_potato_leaf")
    assert label_selectors.current_labels().get(submission=guessed).label == "not_potato_leaf"


def test_bulk_confirm_with_nothing_ticked_says_so(client, officer, active_model):
    client.force_login(officer)
    response = client.post(reverse("dashboard:bulk-confirm"), {}, follow=True)
    assert "Tick the photos" in response.content.decode()


def test_current_labels_for_retraining(officer, active_model):
    a, b, c = (diagnosed(active_model) for _ in range(3))
    label_services.label_submission(a.pk, officer, "healthy")
    label_services.label_submission(a.pk, officer, "early_blight")
    label_services.label_submission(b.pk, officer, reject_reason="unusable")
    rows = [(lbl.submission_id, lbl.label) for lbl in label_selectors.current_labels()]
    assert rows == [(a.pk, "early_blight")]
    assert label_selectors.current_labels(usable_only=False).count() == 2
    assert not Label.objects.filter(submission=c, is_current=True).exists()


def test_heatmap_is_unavailable_without_a_keras_model(client, officer, active_model):
    without_keras_file(active_model)
    submission = diagnosed(active_model)
    client.force_login(officer)
    body = client.post(reverse("dashboard:heatmap", args=[submission.pk])).json()
    assert body["state"] == "unavailable" and "No heatmap for this model version" in body["message"]
    assert not Heatmap.objects.exists()


def test_heatmap_is_asked_of_the_training_worker_once(
    client,
    officer,
    active_model,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    default_storage.save(heatmaps.keras_model_name(active_model), ContentFile(b"a keras file"))
    submission = diagnosed(active_model)
    sent = []
    monkeypatch.setattr("classifier.tasks.compute_heatmap.apply_async", lambda args, **kw: sent.append(args))
    client.force_login(officer)
    url = reverse("dashboard:heatmap", args=[submission.pk])
    assert client.get(url).json()["state"] == "none"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).json()["state"] == "pending"
        assert client.post(url).json()["state"] == "pending"
    assert sent == [[str(submission.pk)]]

    heatmaps.record_heatmap(submission.pk, b"\xff\xd8 jpeg")
    body = client.get(url).json()
    assert body["state"] == "done" and body["url"] == reverse("dashboard:heatmap-image", args=[submission.pk])
    assert b"".join(client.get(body["url"]).streaming_content) == b"\xff\xd8 jpeg"


def test_heatmap_task_is_routed_to_the_training_queue():
    from webapp.celery import app

    route = app.amqp.router.route({}, "classifier.tasks.compute_heatmap", (), {})
    assert route["queue"].name == "training"
    assert app.amqp.router.route({}, "classifier.tasks.diagnose_submission", (), {})["queue"].name == "inference"


def test_bulk_confirm_skips_a_leaf_blight_early_or_late(client, officer, active_model):
    """ "Early or late blight" named no single label: the model's leading label was never the answer."""
    pair = diagnosed(active_model, label="late_blight", confidence=0.7, unsure=True, kind="one_of", photos=3)
    given = diagnosed(active_model, label="healthy", confidence=0.99, unsure=False)
    assert prediction_of(pair).answer_kind == "one_of" and prediction_of(pair).photo_count == 3
    client.force_login(officer)
    grid = client.get(reverse("dashboard:queue")).content.decode()
    assert f'value="{pair.pk}"' not in grid and "3 photos" in grid and "early or late blight" in grid
    client.post(reverse("dashboard:bulk-confirm"), {"ids": [str(pair.pk), str(given.pk)]})
    assert {lbl.submission_id for lbl in label_selectors.current_labels()} == {given.pk}


def test_the_verdict_labels_every_usable_photo_of_the_case_for_retraining(client, officer, active_model, tmp_path):
    from classifier.checked import checked_field_photos
    from training.retraining import _export_checked

    case = diagnosed(active_model, label="late_blight", confidence=0.9, photos=3)
    client.force_login(officer)
    page = client.get(reverse("dashboard:review", args=[case.pk])).content.decode()
    assert page.count('<li class="case-photo') == 3 and "3 photos" in page
    response = client.post(reverse("dashboard:mark-unusable", args=[case.pk]), {"position": "1", "unusable": "1"})
    assert response.status_code == 302
    assert "unusable" in client.get(reverse("dashboard:review", args=[case.pk])).content.decode()
    label(client, case, label="early_blight")
    exported = _export_checked(list(checked_field_photos()), tmp_path)
    assert [item.key for item in exported] == [f"submission:{case.pk}", f"submission:{case.pk}-2"]
    assert {item.image.label for item in exported} == {"early_blight"}
    assert sorted(p.name for p in (tmp_path / "early_blight").iterdir()) == [f"{case.pk}-2.jpg", f"{case.pk}.jpg"]


def test_a_photo_marked_unusable_leaves_the_cases_answer(officer, active_model):
    """The case's answer is worked out again from the stored outputs of its usable photos."""
    import numpy as np

    from classifier.models import Photo
    from classifier.submissions import services

    case = diagnosed(active_model, photos=1)
    second = add_stored_photo(case)
    labels = list(active_model.labels)
    one_hot = [np.eye(len(labels))[labels.index(name)] * 0.9 + 0.1 / len(labels) for name in ("healthy", "late_blight")]
    for photo, probabilities in zip(Photo.objects.filter(submission=case).order_by("position"), one_hot, strict=True):
        services.record_photo_probabilities(photo.pk, active_model, probabilities)
    services.mark_photo_unusable(Photo.objects.get(submission=case, position=0).pk, officer)
    prediction = prediction_of(case)
    assert prediction.label == "late_blight" and prediction.photo_count == 1
    assert Photo.objects.get(pk=second.pk).is_unusable is False


def test_no_verdict_on_a_case_being_diagnosed_again(client, officer, active_model, monkeypatch):
    """A farmer adds a leaf to an answered case (it is pending again): neither bulk confirm nor a single
    verdict may label it then, or the officer's word would cover a photo no officer saw and the new answer
    would land under it. The add-photo route and the verdicts lock the same row."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classifier.submissions import services as submission_services
    from tests.images import jpeg_bytes

    monkeypatch.setattr(submission_services, "enqueue_inference", lambda submission_id, **_: True)
    case = diagnosed(active_model, label="early_blight", confidence=0.97, unsure=False, phone="+256772123456")
    photo = SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert client.post(reverse("api-submission-add-photo", args=[case.pk]), {"image": photo}).status_code == 202
    client.force_login(officer)
    client.post(reverse("dashboard:bulk-confirm"), {"ids": [str(case.pk)]})
    assert not Label.objects.filter(submission=case).exists() and not SmsMessage.objects.exists()
    with pytest.raises(label_services.LabellingError, match="being diagnosed again"):
        label_services.label_submission(case.pk, officer, label="early_blight")


def test_a_case_whose_only_photo_is_unusable_is_not_sure_and_cannot_be_confirmed_in_bulk(client, officer, active_model):
    case = diagnosed(active_model, label="late_blight", confidence=0.97, unsure=False)
    client.force_login(officer)
    response = client.post(reverse("dashboard:mark-unusable", args=[case.pk]), {"position": "0", "unusable": "1"})
    assert response.status_code == 302
    prediction = prediction_of(case)
    assert (prediction.answer_kind, prediction.answer_labels, prediction.is_unsure) == ("not_sure", [], True)
    assert client.get(f"/api/v1/submissions/{case.pk}").json()["answer"]["kind"] == "not_sure"
    assert label_services.bulk_confirm([case.pk], officer).confirmed == 0
