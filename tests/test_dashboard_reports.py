"""Monitoring: disease reports per week and district, model-officer agreement, CSV export."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier import reports
from classifier.labels import services as label_services
from classifier.labels.selectors import QueueFilters
from tests.dashboard_helpers import diagnosed

pytestmark = pytest.mark.django_db


def local(year, month, day, hour=12):
    return timezone.make_aware(datetime(year, month, day, hour))


def test_weekly_and_district_counts_use_the_best_known_answer(officer, active_model):
    # Week of Monday 2 June 2025, and the week after.
    diagnosed(active_model, label="late_blight", district="kabale", created_at=local(2025, 6, 2, 0))
    diagnosed(active_model, label="late_blight", district="kisoro", created_at=local(2025, 6, 8, 23))
    unsure = diagnosed(active_model, label="healthy", confidence=0.45, district="kisoro", created_at=local(2025, 6, 4))
    corrected = diagnosed(active_model, label="healthy", district="kabale", created_at=local(2025, 6, 9, 0))
    diagnosed(active_model, label="early_blight", district="rubanda", created_at=local(2025, 6, 10))
    unusable = diagnosed(active_model, label="healthy", district="rubanda", created_at=local(2025, 6, 11))
    diagnosed(active_model, label="healthy", district="kabale", created_at=local(2025, 6, 20))  # outside
    label_services.label_submission(corrected.pk, officer, "late_blight")
    label_services.label_submission(unusable.pk, officer, reject_reason="unusable")

    report = reports.disease_report(datetime(2025, 6, 2).date(), datetime(2025, 6, 15).date())
    assert report.classes == ["early_blight", "late_blight", "unsure", "unusable"]
    weeks = {row.key: dict(zip(report.classes, row.counts, strict=True)) for row in report.weeks}
    assert weeks == {
        "2025-06-02": {"early_blight": 0, "late_blight": 2, "unsure": 1, "unusable": 0},
        "2025-06-09": {"early_blight": 1, "late_blight": 1, "unsure": 0, "unusable": 1},
    }
    districts = {row.key: dict(zip(report.classes, row.counts, strict=True)) for row in report.districts}
    assert districts["kabale"] == {"early_blight": 0, "late_blight": 2, "unsure": 0, "unusable": 0}
    assert districts["kisoro"]["unsure"] == 1 and report.total == 6

    reviewed = reports.disease_report(datetime(2025, 6, 2).date(), datetime(2025, 6, 15).date(), reviewed_only=True)
    assert reviewed.total == 2
    kisoro = reports.disease_report(datetime(2025, 6, 2).date(), datetime(2025, 6, 15).date(), district="kisoro")
    assert kisoro.total == 2 and [row.key for row in kisoro.districts] == ["kisoro"]
    assert unsure  # counted as "unsure" above, never as "healthy"


def test_reports_page_has_a_chart_and_tables(client, officer, active_model, django_assert_max_num_queries):
    for days in range(0, 40, 3):
        diagnosed(active_model, label="late_blight", created_at=timezone.now() - timedelta(days=days))
    client.force_login(officer)
    with django_assert_max_num_queries(8):  # 6 for the disease report, 2 for the answer times
        response = client.get(reverse("dashboard:reports"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg viewBox="0 0 720 240"' in html and html.count("<rect ") >= 5
    assert 'id="weekly-table"' in html and 'id="district-table"' in html
    assert "cdn" not in html.lower() and '<script src="http' not in html


def test_reports_empty_state_and_range_checks(client, officer, active_model):
    client.force_login(officer)
    empty = client.get(reverse("dashboard:reports")).content.decode()
    assert "No diagnosed photos in this range" in empty
    too_long = client.get(reverse("dashboard:reports"), {"date_from": "2020-01-01", "date_to": "2025-01-01"})
    assert "two years at most" in too_long.content.decode()


def test_agreement_per_model_version_with_confusion_matrix(client, officer, active_model):
    for predicted, truth in [
        ("late_blight", "late_blight"),
        ("late_blight", "late_blight"),
        ("late_blight", "early_blight"),
        ("healthy", "healthy"),
        ("healthy", None),  # unusable
    ]:
        submission = diagnosed(active_model, label=predicted)
        if truth:
            label_services.label_submission(submission.pk, officer, truth)
        else:
            label_services.label_submission(submission.pk, officer, reject_reason="unusable")
    diagnosed(active_model)  # not reviewed: not counted

    [version] = reports.agreement_by_version()
    assert version.number == active_model.number
    assert (version.reviewed, version.agreed, version.unusable) == (4, 3, 1)
    assert version.accuracy == pytest.approx(0.75)
    index = {name: i for i, name in enumerate(version.labels)}
    assert version.matrix[index["early_blight"]][index["late_blight"]] == 1
    assert version.matrix[index["late_blight"]][index["late_blight"]] == 2

    client.force_login(officer)
    html = client.get(reverse("dashboard:agreement")).content.decode()
    assert f"Model v{active_model.number}" in html and "75%" in html and 'class="diagonal"' in html


def test_agreement_empty_state(client, officer, active_model):
    client.force_login(officer)
    assert "No reviewed photos yet" in client.get(reverse("dashboard:agreement")).content.decode()


def test_csv_export_streams_predictions_and_current_labels(client, officer, active_model):
    first = diagnosed(
        active_model, label="late_blight", confidence=0.81, district="kisoro", created_at=local(2025, 3, 1)
    )
    second = diagnosed(active_model, label="healthy", confidence=0.55, created_at=local(2025, 3, 2))
    label_services.label_submission(first.pk, officer, "healthy")
    label_services.label_submission(first.pk, officer, "early_blight")

    client.force_login(officer)
    response = client.get(reverse("dashboard:export"))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="potato-submissions-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["submission_id"] for row in rows] == [str(first.pk), str(second.pk)]
    assert rows[0]["created_at"].startswith("2025-03-01T12:00:00+03:00")
    assert rows[0]["district"] == "kisoro"
    assert (rows[0]["predicted_label"], rows[0]["confidence"], rows[0]["model_version"]) == (
        "late_blight",
        "0.8100",
        str(active_model.number),
    )
    assert (rows[0]["review_action"], rows[0]["officer_label"], rows[0]["reviewed_by"]) == (
        "correct",
        "early_blight",
        "okello",
    )
    assert rows[0]["top3"].startswith("late_blight:0.8100;")
    assert (rows[1]["review_action"], rows[1]["officer_label"], rows[1]["is_unsure"]) == ("", "", "1")

    only_kisoro = client.get(reverse("dashboard:export"), {"district": "kisoro", "status": "corrected"})
    assert len(b"".join(only_kisoro.streaming_content).decode().strip().splitlines()) == 2


def test_csv_cells_cannot_become_spreadsheet_formulas(client, active_model):
    from webapp.dashboard.accounts import create_officer

    sneaky = create_officer("=HYPERLINK(1)", "field visit in Kabale 2024")
    submission = diagnosed(active_model)
    label_services.label_submission(submission.pk, sneaky, "healthy")
    client.force_login(sneaky)
    body = b"".join(client.get(reverse("dashboard:export")).streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def test_export_rows_query_count_does_not_grow(active_model, django_assert_max_num_queries):
    for _ in range(30):
        diagnosed(active_model)
    with django_assert_max_num_queries(2):
        assert len(list(reports.export_rows(QueueFilters(status="all")))) == 31


def test_an_early_or_late_blight_answer_counts_as_blight_not_as_unsure(officer, active_model):
    """Surveillance by district and week must see a case the farmer was told "Leaf blight: early or late"."""
    diagnosed(
        active_model, label="late_blight", confidence=0.55, unsure=True, kind="one_of", created_at=local(2025, 6, 3)
    )
    diagnosed(active_model, label="healthy", confidence=0.45, created_at=local(2025, 6, 4))
    report = reports.disease_report(datetime(2025, 6, 2).date(), datetime(2025, 6, 8).date())
    counts = dict(zip(report.classes, report.weeks[0].counts, strict=True))
    assert counts == {"early_or_late_blight": 1, "unsure": 1}
