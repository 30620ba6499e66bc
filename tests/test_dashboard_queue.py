"""The review queue: least certain first, filters, pagination, empty states, bounded queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from classifier.labels import selectors as label_selectors
from classifier.labels import services as label_services
from classifier.labels.selectors import QueueFilters
from classifier.thumbnails import THUMBNAIL_SIDE, thumbnail_name
from tests.dashboard_helpers import diagnosed, without_keras_file
from tests.images import jpeg_bytes
from webapp.dashboard.views.queue import PER_PAGE

pytestmark = pytest.mark.django_db


def grid_ids(response) -> list[str]:
    return re.findall(r'data-id="([0-9a-f-]{36})"', response.content.decode())


def test_queue_puts_the_least_certain_first_and_breaks_ties_by_margin(client, officer, active_model):
    sure = diagnosed(active_model, confidence=0.97)
    unsure = diagnosed(active_model, confidence=0.41, margin=0.30)
    tie_small_margin = diagnosed(active_model, confidence=0.55, margin=0.02)
    tie_large_margin = diagnosed(active_model, confidence=0.55, margin=0.20)
    reviewed = diagnosed(active_model, confidence=0.30)
    label_services.label_submission(reviewed.pk, officer, "healthy")

    client.force_login(officer)
    response = client.get(reverse("dashboard:queue"))
    assert grid_ids(response) == [str(s.pk) for s in (unsure, tie_small_margin, tie_large_margin, sure)]
    assert "4 photos to review" in response.content.decode()


def test_filters_district_dates_predicted_class_and_status(client, officer, active_model):
    now = timezone.now()
    kabale_old = diagnosed(active_model, district="kabale", created_at=now - timedelta(days=40))
    kisoro_new = diagnosed(active_model, district="kisoro", label="early_blight", confidence=0.7)
    rubanda_new = diagnosed(active_model, district="rubanda", label="healthy", confidence=0.8)
    label_services.label_submission(rubanda_new.pk, officer, "late_blight")  # corrected

    def ids(**params):
        return set(grid_ids(client.get(reverse("dashboard:queue"), params)))

    client.force_login(officer)
    assert ids(district="kisoro") == {str(kisoro_new.pk)}
    today = timezone.localdate()
    assert ids(date_to=(today - timedelta(days=30)).isoformat()) == {str(kabale_old.pk)}
    assert ids(date_from=(today - timedelta(days=1)).isoformat()) == {str(kisoro_new.pk)}
    assert ids(predicted="early_blight") == {str(kisoro_new.pk)}
    assert ids(status="corrected") == {str(rubanda_new.pk)}
    assert ids(status="confirmed") == set()
    assert ids(status="all") == {str(kabale_old.pk), str(kisoro_new.pk), str(rubanda_new.pk)}


def test_bad_filters_show_an_error_and_fall_back_to_the_queue(client, officer, active_model):
    diagnosed(active_model)
    client.force_login(officer)
    response = client.get(reverse("dashboard:queue"), {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert response.status_code == 200
    assert "must be on or before" in response.content.decode()
    assert len(grid_ids(response)) == 1


def test_pagination(client, officer, active_model):
    for i in range(PER_PAGE + 3):
        diagnosed(active_model, confidence=0.5 + i / 100)
    client.force_login(officer)
    first = client.get(reverse("dashboard:queue"))
    second = client.get(reverse("dashboard:queue"), {"page": 2, "district": "kabale"})
    assert len(grid_ids(first)) == PER_PAGE and len(grid_ids(second)) == 3
    assert 'rel="next"' in first.content.decode() and "district=kabale&amp;page=1" in second.content.decode()


def test_empty_states(client, officer, active_model):
    client.force_login(officer)
    assert "All caught up" in client.get(reverse("dashboard:queue")).content.decode()
    diagnosed(active_model, district="kabale")
    filtered = client.get(reverse("dashboard:queue"), {"district": "kisoro"}).content.decode()
    assert "No photos match these filters" in filtered and "clear the filters" in filtered


def test_queue_and_review_page_make_a_fixed_number_of_queries(
    client,
    officer,
    active_model,
    django_assert_max_num_queries,
):
    submissions = [diagnosed(active_model, confidence=0.4 + i / 100) for i in range(PER_PAGE)]
    for submission in submissions[:5]:
        label_services.label_submission(submission.pk, officer, "healthy")
        label_services.label_submission(submission.pk, officer, "early_blight")
    client.force_login(officer)
    with django_assert_max_num_queries(7):
        assert client.get(reverse("dashboard:queue"), {"status": "all"}).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("dashboard:review", args=[submissions[0].pk])).status_code == 200


def test_review_page_shows_top3_choices_and_neighbours(client, officer, active_model):
    without_keras_file(active_model)
    first = diagnosed(active_model, confidence=0.41)
    middle = diagnosed(active_model, label="early_blight", confidence=0.52)
    last = diagnosed(active_model, confidence=0.63)
    client.force_login(officer)
    html = client.get(reverse("dashboard:review", args=[middle.pk]), {"district": "kabale"}).content.decode()
    assert "Early blight" in html and "52%" in html
    assert f'/dashboard/s/{first.pk}/?district=kabale" id="previous-link"' in html
    assert f'/dashboard/s/{last.pk}/?district=kabale" id="next-link"' in html
    # 1..n keys over every class; the model's guess is not preselected where the farmer was told "not sure"
    # (one Enter must not confirm it), and is where she was given it.
    for key, name in enumerate(label_selectors.label_classes().values_list("name", flat=True), start=1):
        assert f'value="{name}"' in html and f"<kbd>{key}</kbd>" in html
    assert " checked" not in html.split('id="label-form"', 1)[1].split("</form>", 1)[0]
    sure = diagnosed(active_model, label="healthy", confidence=0.97, unsure=False)
    html_sure = client.get(reverse("dashboard:review", args=[sure.pk])).content.decode()
    assert re.search(r'value="healthy" data-display="[^"]+" checked', html_sure)
    assert "No heatmap for this model version" in html  # this version has no Keras file


def test_neighbours_follow_the_filtered_queue(active_model):
    a = diagnosed(active_model, confidence=0.3, district="kisoro")
    diagnosed(active_model, confidence=0.4, district="kabale")
    c = diagnosed(active_model, confidence=0.5, district="kisoro")
    filters = QueueFilters(district="kisoro")
    assert label_selectors.queue_neighbours(filters, c.prediction) == (a.pk, None)
    assert label_selectors.queue_neighbours(filters, a.prediction) == (None, c.pk)


def test_thumbnails_are_small_and_made_once(client, officer, active_model, media_root):
    submission = diagnosed(active_model, image=jpeg_bytes(size=(1600, 1200)))
    client.force_login(officer)
    response = client.get(reverse("dashboard:thumbnail", args=[submission.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert len(body) < 20_000
    stored = media_root / thumbnail_name(submission.pk)
    with Image.open(stored) as thumb:
        assert thumb.size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    made_at = stored.stat().st_mtime_ns
    b"".join(client.get(reverse("dashboard:thumbnail", args=[submission.pk])).streaming_content)
    assert stored.stat().st_mtime_ns == made_at
    # The grid links thumbnails, never the full photo.
    html = client.get(reverse("dashboard:queue")).content.decode()
    assert reverse("dashboard:thumbnail", args=[submission.pk]) in html
    assert reverse("dashboard:image", args=[submission.pk]) not in html


def test_previous_steps_back_to_a_photo_just_reviewed_next_skips_reviewed(officer, active_model):
    a, b, c, d = (diagnosed(active_model, confidence=value) for value in (0.3, 0.4, 0.5, 0.6))
    label_services.label_submission(a.pk, officer, "late_blight")
    label_services.label_submission(c.pk, officer, "late_blight")
    assert label_selectors.queue_neighbours(QueueFilters(), b.prediction) == (a.pk, d.pk)
    assert label_selectors.queue_neighbours(QueueFilters(status="reviewed"), c.prediction) == (a.pk, None)
