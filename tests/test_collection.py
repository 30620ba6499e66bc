"""Officers' collection (issue 27), without a browser: visits and photos sent twice are stored once, coarse
location only, "not sure yet" is never checked, the counts against the learning curve, the dataset export
(groups, no EXIF, licence, datasheet), and how collected photos reach the field pool and retraining."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from uuid import uuid4

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from classifier import checked
from classifier.collection import services
from classifier.collection.dataset import DatasetOptions, folder_dataset
from classifier.labels import services as label_services
from classifier.models import CollectedPhoto, GardenVisit, VisitLabel
from tests.dashboard_helpers import PASSWORD, collected_visit, diagnosed
from tests.images import DATA_ROOT, jpeg_with_gps
from webapp.dashboard.accounts import create_officer

pytestmark = pytest.mark.django_db


def field_photos(label: str, count: int, start: int = 0) -> list[bytes]:
    """Different real leaves (identical ones would be merged as near-copies into one group)."""
    return [path.read_bytes() for path in sorted((DATA_ROOT / "field-potato" / label).iterdir())[start : start + count]]


def visit_body(**changes) -> dict:
    body = {
        "id": str(uuid4()),
        "district": "kabale",
        "parish": "Bubare",
        "visited_on": timezone.localdate().isoformat(),
        "label": "late_blight",
        "evidence": ["white_mould"],
        "farmer_agreed": True,
    }
    return body | changes


def send_visit(client, body: dict):
    return client.post(reverse("dashboard:collect-api-visits"), json.dumps(body), content_type="application/json")


def send_photo(client, photo_id, visit_id, content: bytes, taken_at: str = ""):
    upload = io.BytesIO(content)
    upload.name = "leaf.jpg"
    data = {"id": str(photo_id), "visit": str(visit_id), "image": upload, "taken_at": taken_at}
    return client.post(reverse("dashboard:collect-api-photos"), data)


def has_metadata(content: bytes) -> bool:
    with Image.open(io.BytesIO(content)) as image:
        return bool(image.getexif()) or bool({"exif", "comment", "icc_profile", "xmp"} & set(image.info))


def test_a_visit_and_its_photos_sent_twice_are_stored_once(client, officer, active_model):
    client.force_login(officer)
    body = visit_body()
    assert send_visit(client, body).status_code == 201
    again = send_visit(client, body)  # the answer was lost on a bad network: the phone sends it again
    assert again.status_code == 200 and again.json()["created"] is False
    assert GardenVisit.objects.count() == 1 and VisitLabel.objects.count() == 1

    photo_id, taken = uuid4(), (timezone.now() - timedelta(minutes=5)).isoformat()
    first = send_photo(client, photo_id, body["id"], jpeg_with_gps(), taken)
    assert first.status_code == 201, first.content
    assert send_photo(client, photo_id, body["id"], jpeg_with_gps(), taken).status_code == 200
    stored = CollectedPhoto.objects.get()
    assert str(stored.pk) == str(photo_id) and stored.taken_at is not None and stored.sent_by == officer
    with default_storage.open(stored.image.name, "rb") as handle:
        assert not has_metadata(handle.read())  # no GPS, no camera, no comment with a name and number
    files = default_storage.listdir(stored.image.name.rsplit("/", 1)[0])[1]
    assert len(files) == 1  # the copy sent twice left no file behind

    # A photo whose visit has not arrived (yet) waits on the phone: 404, nothing stored.
    missing = send_photo(client, uuid4(), uuid4(), jpeg_with_gps())
    assert missing.status_code == 404 and CollectedPhoto.objects.count() == 1
    # Another officer cannot add to this visit, nor reuse its id.
    other = create_officer("atuhaire", PASSWORD)
    client.force_login(other)
    assert send_photo(client, uuid4(), body["id"], jpeg_with_gps()).status_code == 400
    assert send_visit(client, body).status_code == 400
    assert CollectedPhoto.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parish": "Mugisha 0772 123456"}, "never a farmer's name or phone number"),
        ({"parish": "  "}, "Name the parish"),
        ({"farmer_agreed": False}, "farmer's agreement"),
        ({"label": "mosaic"}, "Unknown class"),
        ({"evidence": ["gossip"]}, "Unknown evidence"),
        ({"district": "kampala"}, "Choose the district"),
        ({"visited_on": "2001-01-01"}, "within the last year"),
        ({"id": "not-a-uuid"}, "needs its id"),
    ],
)
def test_a_visit_keeps_coarse_location_only_and_needs_the_farmers_agreement(
    client, officer, active_model, changes, message
):
    client.force_login(officer)
    response = send_visit(client, visit_body(**changes))
    assert response.status_code == 400 and message in response.json()["error"]
    assert not GardenVisit.objects.exists()


def test_not_sure_yet_is_never_checked_until_labelled_and_relabels_keep_the_history(officer, active_model):
    visit, _ = collected_visit(officer, label="", photos=2, evidence=["white_mould"])
    assert list(checked.checked_field_photos()) == [] and checked.checked_photo_counts().by_class == {}

    lab = create_officer("kyomuhendo", PASSWORD)
    services.relabel_visit(visit.pk, lab, "early_blight", ["lab_test", "white_mould"])
    services.relabel_visit(visit.pk, lab, "early_blight", ["white_mould", "lab_test"])  # a double tap: once
    photos = list(checked.checked_field_photos())
    assert [(p.source, p.label, p.labelled_by, p.evidence, p.group) for p in photos] == [
        (checked.COLLECTED, "early_blight", "kyomuhendo", ("lab_test", "white_mould"), str(visit.pk))
    ] * 2
    history = list(VisitLabel.objects.filter(visit=visit).order_by("created_at", "id"))
    assert [(h.label, h.is_current, h.created_by.username) for h in history] == [
        ("", False, "okello"),
        ("early_blight", True, "kyomuhendo"),
    ]
    assert history[1].replaces == history[0]

    services.mark_collected_photo(CollectedPhoto.objects.filter(visit=visit).first().pk, unusable=True)
    assert len(list(checked.checked_field_photos())) == 1
    # A farmer's case counts by its usable photos, apart from collected ones.
    case = diagnosed(active_model, label="early_blight", district="rubanda", photos=3)
    label_services.label_submission(case.pk, officer, label="early_blight")
    counts = checked.checked_photo_counts()
    assert counts.by_class == {"early_blight": {checked.UPLOADS: 3, checked.COLLECTED: 1}}
    assert counts.districts_without("early_blight") == ["Kisoro"]


def test_collect_and_models_pages_count_checked_photos_against_the_learning_curve(client, officer, active_model):
    active_model.metrics["learning_curve"] = {
        "early_blight": {"needed": 1000, "low": 290, "high": 9900, "pool": 55},
        "late_blight": {"needed": 1600, "low": 190, "high": None, "pool": 82},
    }
    active_model.save(update_fields=["metrics"])
    collected_visit(officer, label="early_blight", photos=2, district="kisoro")
    collected_visit(officer, label="", photos=4, district="kabale")  # not sure yet: not counted
    case = diagnosed(active_model, label="late_blight", district="kabale")
    label_services.label_submission(case.pk, officer, label="late_blight")
    client.force_login(officer)

    page = client.get(reverse("dashboard:collect")).content.decode()
    early = page.split('id="need-early_blight"')[1].split("</li>")[0]
    assert "2</span> checked field photos (0 from farmers, 2 collected); about 943 more needed" in early
    assert "None yet from Rubanda, Kabale." in early
    assert "None yet from Rubanda, Kisoro." in page.split('id="need-late_blight"')[1].split("</li>")[0]
    assert "not sure yet" in page and "4 photos" in page

    models = client.get(reverse("dashboard:models")).content.decode()
    row = models.split('id="needed-early_blight"')[1].split("</tr>")[0]
    assert '<td class="uploads">0</td><td class="collected">2</td>' in row
    assert "about 943 more early blight photos" in row and "Rubanda, Kabale" in row


def test_the_export_holds_checked_photos_with_their_group_and_no_exif(client, officer, dashboard_admin, active_model):
    client.force_login(officer)
    body = visit_body(label="early_blight", evidence=["lab_test"])
    send_visit(client, body)
    leaves = sorted((DATA_ROOT / "field-potato" / "early_blight").iterdir())[:2]
    for leaf in leaves:
        assert send_photo(client, uuid4(), body["id"], jpeg_with_gps(leaf)).status_code == 201
    collected_visit(officer, label="", photos=1)  # not sure yet: not exported
    case = diagnosed(active_model, label="late_blight")
    label_services.label_submission(case.pk, officer, label="late_blight")

    client.force_login(dashboard_admin)
    form = {"title": "Kigezi leaves", "publisher": "Kabale District Local Government", "licence": "CC-BY-4.0"}
    response = client.post(reverse("dashboard:collect-export"), form | {"collected": "on"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    (root,) = {name.split("/")[0] for name in archive.namelist()}
    rows = list(csv.DictReader(io.StringIO(archive.read(f"{root}/MANIFEST.csv").decode())))
    assert len(rows) == 2 and {row["group"] for row in rows} == {rows[0]["group"]}  # one visit, one group
    assert rows[0]["group"].startswith("visit-") and body["id"] not in archive.read(f"{root}/MANIFEST.csv").decode()
    for row in rows:
        assert (row["label"], row["source"], row["district"], row["evidence"], row["labelled_by"]) == (
            "early_blight",
            "officer_visit",
            "kabale",
            "lab_test",
            "okello",
        )
        content = archive.read(f"{root}/{row['file']}")
        assert row["file"].startswith("early_blight/") and not has_metadata(content)
        assert hashlib.sha256(content).hexdigest() == row["sha256"]
    datasheet = archive.read(f"{root}/DATASHEET.md").decode()
    assert "Creative Commons Attribution 4.0" in datasheet and "2 photos in 1 group" in datasheet
    assert "Kabale District Local Government" in archive.read(f"{root}/LICENSE.txt").decode()

    # Farmers' uploads only when asked for, never under their case's id (the farmer's key to her result).
    response = client.post(reverse("dashboard:collect-export"), form | {"collected": "on", "uploads": "on"})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = archive.read(f"{root}/MANIFEST.csv").decode()
    assert manifest.count("farmer_upload") == 1 and str(case.pk) not in manifest
    assert not any(str(case.pk) in name for name in archive.namelist())
    assert client.post(reverse("dashboard:collect-export"), form).status_code == 400  # nothing chosen


def test_an_exported_dataset_keeps_its_visits_as_groups_in_the_field_pool(tmp_path, officer, active_model):
    from training.field.data import collect_pools

    first, _ = collected_visit(officer, label="early_blight", images=field_photos("early_blight", 3))
    collected_visit(officer, label="late_blight", images=field_photos("late_blight", 2))
    summary = folder_dataset(tmp_path / "kigezi", DatasetOptions("Kigezi", "CC0-1.0", "MAAIF"))
    assert summary.photos == 5
    lab = tmp_path / "lab" / "healthy"
    lab.mkdir(parents=True)
    (lab / "a.jpg").write_bytes(field_photos("early_blight", 1, start=10)[0])
    pools = collect_pools(tmp_path / "lab", [], [tmp_path / "kigezi"], [], "not_potato_leaf")
    groups = {image.group for image in pools.field}
    assert len(pools.field) == 5 and len(groups) == 2 and all(g.startswith("kigezi:visit-") for g in groups)


def test_retraining_gathers_collected_photos_grouped_by_visit_and_apart_from_uploads(
    tmp_path, settings, officer, active_model
):
    from training import retraining

    for label in ("early_blight", "late_blight"):
        (tmp_path / "lab" / label).mkdir(parents=True)
        (tmp_path / "lab" / label / "a.jpg").write_bytes(field_photos(label, 1, start=20)[0])
    settings.RETRAIN_BASE_DATA = tmp_path / "lab"
    settings.RETRAIN_NEGATIVES = settings.RETRAIN_FIELD_DATA = settings.RETRAIN_FIELD_NEGATIVES = []
    settings.RETRAIN_EVALUATION_FRACTION = 0.0
    settings.RETRAIN_MIN_CLASS_IMAGES = 1
    garden, _ = collected_visit(officer, label="early_blight", images=field_photos("early_blight", 3))
    other, _ = collected_visit(officer, label="late_blight", images=field_photos("late_blight", 2))
    collected_visit(officer, label="", images=field_photos("late_blight", 1, start=5))  # not sure yet
    case = diagnosed(active_model, label="late_blight")
    label_services.label_submission(case.pk, officer, label="late_blight")

    data = retraining.gather_retraining_data(retraining.retraining_config(), tmp_path / "uploads")
    collected = [image for image in data.pools.field if image.image.source == "collected"]
    assert data.collected_photos == 5 and data.labelled_uploads == 1 and data.has_collected
    assert {image.group for image in collected} == {f"collected:{garden.pk}", f"collected:{other.pk}"}
    assert [image.image.source for image in data.pools.field].count("field") == 1  # the farmer's, apart
    counts = retraining.photo_counts(data, cross_validated=True)
    assert (counts["trained"]["collected"], counts["trained"]["uploads"]) == (5, 1)

    settings.RETRAIN_EVALUATION_FRACTION = 1.0  # every garden held out: scored apart, never trained
    data = retraining.gather_retraining_data(retraining.retraining_config(), tmp_path / "uploads-2")
    assert {"field", "collected"} <= {item["source"] for item in data.evaluation}
    assert sum(item["key"].startswith(f"collected:{garden.pk}-") for item in data.evaluation) == 3
    assert not data.has_collected


def test_a_labelled_visit_counts_for_the_weekly_retraining(officer, active_model):
    from training import retraining

    visit, _ = collected_visit(officer, label="", photos=1)
    assert retraining.new_labels_since_last_run() == 0
    services.relabel_visit(visit.pk, officer, "late_blight")
    assert retraining.new_labels_since_last_run() == 1


def test_collect_page_opens_a_visit_without_javascript_and_a_farmer_cannot_collect(client, officer, active_model):
    client.force_login(officer)
    page = client.get(reverse("dashboard:collect")).content.decode()
    assert 'id="visit-form"' in page and "Not sure yet" in page and 'list="parishes"' in page
    response = client.post(
        reverse("dashboard:collect"),
        {"district": "rubanda", "parish": "Hamurwa", "visited_on": timezone.localdate().isoformat(), "label": ""},
    )
    assert response.status_code == 400 and not GardenVisit.objects.exists()  # the farmer's agreement first
    response = client.post(
        reverse("dashboard:collect"),
        {
            "district": "rubanda",
            "parish": "Hamurwa",
            "visited_on": timezone.localdate().isoformat(),
            "label": "",
            "farmer_agreed": "on",
        },
    )
    visit = GardenVisit.objects.get()
    assert response["Location"] == reverse("dashboard:collect-visit", args=[visit.pk])
    upload = io.BytesIO(jpeg_with_gps())
    upload.name = "leaf.jpg"
    client.post(reverse("dashboard:collect-visit", args=[visit.pk]), {"photos": [upload]})
    assert visit.photos.count() == 1
    page = client.get(reverse("dashboard:collect-visit", args=[visit.pk])).content.decode()
    assert "not sure yet" in page and "Photos (1)" in page
    relabel = {"label": "late_blight", "evidence": ["stem_test"]}
    client.post(reverse("dashboard:collect-relabel", args=[visit.pk]), relabel)
    page = client.get(reverse("dashboard:collect-visit", args=[visit.pk])).content.decode()
    assert "Late blight</strong>: its usable photos count" in page and "Stem test" in page

    worker = client.get(reverse("dashboard:collect-sw"))
    assert worker["Content-Type"].startswith("text/javascript") and b'"collect-" + VERSION' in worker.content

    # Someone signed in outside the officers' groups, or an officer whose group lost the permission, may not.
    farmer = get_user_model().objects.create_user("farmer", password=PASSWORD)
    client.force_login(farmer)
    assert client.get(reverse("dashboard:collect")).status_code == 403
    officer.groups.get(name="officers").permissions.clear()
    client.force_login(get_user_model().objects.get(pk=officer.pk))
    assert client.get(reverse("dashboard:collect")).status_code == 403


def test_the_demo_splits_the_shared_field_photos_into_visits_by_date_or_runs_of_names():
    from training.management.commands.demo_collection import demo_visits

    visits = list(demo_visits([DATA_ROOT / "field-potato", DATA_ROOT / "field-potato-magelang"], per_visit=5).values())
    assert sum(len(visit) for visit in visits) == 213
    assert all(len({image.label for image in visit}) == 1 for visit in visits)  # one class a visit
    dated = [visit for visit in visits if visit[0].path.name.startswith("pld_2023")]
    days = [{re.search(r"20\d{6}", image.path.name).group(0) for image in visit} for visit in dated]
    assert dated and all(len(day) == 1 for day in days)  # one garden on one day
    assert max(len(visit) for visit in visits if visit[0].source == "field-potato") == 5


def test_the_collect_page_reads_a_fixed_number_of_queries(client, officer, active_model, django_assert_max_num_queries):
    for _ in range(3):
        collected_visit(officer, label="late_blight", photos=2)
    client.force_login(officer)
    # session, user, groups, the user's and the groups' permissions, classes, parishes, count and page of
    # visits, the learning curve, checked photos from uploads and from visits
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboard:collect")).status_code == 200
