"""Uploading through the page and the API: stored once, refused clearly, nothing left behind."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import Photo, Submission
from tests.images import heldout_photos, jpeg_bytes, noise_jpeg_bytes

pytestmark = pytest.mark.django_db


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file() and "submissions" in p.parts]


def half_a_jpeg() -> bytes:
    whole = jpeg_bytes(size=(500, 500))
    return whole[: len(whole) // 2]


def photo(content=None, name="leaf.jpg"):
    return SimpleUploadedFile(name, content if content is not None else jpeg_bytes(), content_type="image/jpeg")


def test_upload_page_has_camera_control(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'accept="image/*"' in html and 'capture="environment"' in html and " multiple " in html
    for district in ("Rubanda", "Kabale", "Kisoro"):
        assert district in html


def test_api_accepts_a_photo_and_enqueues_after_commit(client, django_capture_on_commit_callbacks, monkeypatch):
    enqueued = []
    monkeypatch.setattr("classifier.submissions.services.enqueue_inference", lambda sid, **_: enqueued.append(sid))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/submissions", {"image": photo(), "district": "kabale"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    submission = Submission.objects.get(pk=body["id"])
    assert body["url"] == f"/s/{submission.id}/"
    assert submission.district == "kabale"
    assert enqueued == [submission.id]


def test_page_upload_redirects_to_result(client):
    response = client.post("/", {"image": photo(), "district": "kisoro"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == reverse("submission", args=[submission.id])
    page = client.get(response["Location"])
    assert "Looking at your leaf" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please choose or take a photo"),
        ({"image": photo(b"")}, "empty"),
        ({"image": photo(b"GIF89a not really")}, "not a photo we can read"),
        ({"image": photo(half_a_jpeg())}, "incomplete or damaged"),
        ({"image": photo(), "district": "nairobi"}, "Unknown district"),
        ({"photo": photo()}, "Please choose or take a photo"),
    ],
    ids=["missing", "empty", "not-image", "truncated", "bad-district", "wrong-field"],
)
def test_bad_uploads_get_400_and_store_nothing(client, media_root, data, message):
    before = set(stored_files(media_root))
    api = client.post("/api/v1/submissions", data)
    assert api.status_code == 400
    assert message in api.json()["error"]
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)
    page = client.post("/", data)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert Submission.objects.count() == 0
    assert set(stored_files(media_root)) == before


def test_oversized_upload_is_refused(client, settings, media_root):
    settings.MAX_UPLOAD_BYTES = 10_000
    response = client.post("/api/v1/submissions", {"image": photo(noise_jpeg_bytes((600, 600)))})
    assert response.status_code == 400
    assert "too big" in response.json()["error"]
    assert Submission.objects.count() == 0


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body of a request declared over the limit was read")

    readline = read


@pytest.mark.parametrize("path", ["/api/v1/submissions", "/"])
def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(client, settings, path):
    declared = 300 * 1024 * 1024
    assert declared > settings.MAX_REQUEST_BYTES
    response = client.generic(
        "POST", path, b"--x\r\n", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared), **{"wsgi.input": UnreadableBody()},
    )  # fmt: skip
    assert response.status_code == 413
    text = response.json()["error"] if path.startswith("/api/") else response.content.decode()
    assert "too big (more than 15 MB)" in text
    assert Submission.objects.count() == 0


def test_a_body_at_the_limit_is_still_read(client, settings):
    settings.MAX_REQUEST_BYTES = 200_000
    response = client.post("/api/v1/submissions", {"image": photo(noise_jpeg_bytes((200, 200)))})
    assert response.status_code == 202


def test_database_failure_leaves_no_orphan_file(client, media_root, monkeypatch):
    def broken_save(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Submission, "save", broken_save)
    before = set(stored_files(media_root))
    with pytest.raises(RuntimeError):
        client.post("/api/v1/submissions", {"image": photo()})
    assert set(stored_files(media_root)) == before


def test_broker_down_keeps_the_submission_pending(client, django_capture_on_commit_callbacks, broker_down):
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/submissions", {"image": photo()})
    assert response.status_code == 202
    submission = Submission.objects.get()
    assert submission.status == "pending" and submission.enqueue_count == 0


def test_api_detail_and_unknown_ids(client):
    assert client.get("/api/v1/submissions/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/s/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/api/v1/submissions/not-a-uuid").status_code == 404


def test_real_photo_upload_keeps_its_pixels(client):
    path = heldout_photos("late_blight", 1)[0]
    response = client.post("/api/v1/submissions", {"image": photo(path.read_bytes(), path.name)})
    submission = Submission.objects.get(pk=response.json()["id"])
    stored = submission.photos.get()
    assert (stored.width, stored.height) == (256, 256)


# -- cases: 1 to 6 photos -----------------------------------------------------------------------


def test_api_takes_a_case_of_three_photos(client, django_capture_on_commit_callbacks, monkeypatch):
    enqueued = []
    monkeypatch.setattr("classifier.submissions.services.enqueue_inference", lambda sid, **_: enqueued.append(sid))
    paths = heldout_photos("late_blight", 3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/submissions", {"image": [photo(p.read_bytes(), p.name) for p in paths]})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["photos"] == 3 and body["url"] == f"/s/{body['id']}/"
    assert list(Photo.objects.filter(submission_id=body["id"]).values_list("position", flat=True)) == [0, 1, 2]
    assert enqueued == [Submission.objects.get().id]  # one case, one task


def test_seven_photos_are_refused_and_nothing_is_stored(client, media_root):
    before = stored_files(media_root)
    response = client.post("/api/v1/submissions", {"image": [photo() for _ in range(7)]})
    assert response.status_code == 400
    body = response.json()
    assert "at most 6 photos" in body["error"] and body["errors"]["image"] == [body["error"]]
    assert not Submission.objects.exists() and stored_files(media_root) == before


def test_a_bad_photo_among_three_refuses_the_case_and_stores_nothing(client, media_root):
    before = stored_files(media_root)
    response = client.post("/api/v1/submissions", {"image": [photo(), photo(half_a_jpeg()), photo()]})
    assert response.status_code == 400 and "incomplete or damaged" in response.json()["error"]
    assert not Submission.objects.exists() and not Photo.objects.exists() and stored_files(media_root) == before


def test_a_photo_is_added_to_a_case_up_to_six(client, django_capture_on_commit_callbacks, monkeypatch, media_root):
    monkeypatch.setattr("classifier.submissions.services.enqueue_inference", lambda sid, **_: True)
    before = len(stored_files(media_root))
    case = client.post("/api/v1/submissions", {"image": photo()}).json()
    Submission.objects.filter(pk=case["id"]).update(status="done")
    url = reverse("api-submission-add-photo", args=[case["id"]])
    for count in range(2, 7):
        response = client.post(url, {"image": photo()})
        assert response.status_code == 202 and response.json()["photos"] == count
        assert response.json()["status"] == "pending"  # diagnosed again, over every photo
    full = client.post(url, {"image": photo()})
    assert full.status_code == 400 and "at most 6 photos" in full.json()["error"]
    assert Photo.objects.filter(submission_id=case["id"]).count() == 6 and len(stored_files(media_root)) == before + 6
    bad = client.post(reverse("api-submission-add-photo", args=[case["id"]]), {"image": photo(b"not a photo")})
    assert bad.status_code == 400
    missing = client.post(reverse("api-submission-add-photo", args=["00000000-0000-0000-0000-000000000000"]))
    assert missing.status_code == 404


def test_no_photo_is_added_once_an_officer_answered(client, officer, active_model):
    from classifier.labels.services import label_submission
    from tests.dashboard_helpers import diagnosed

    case = diagnosed(active_model, unsure=True)
    label_submission(case.pk, officer, "late_blight")
    response = client.post(reverse("api-submission-add-photo", args=[case.pk]), {"image": photo()})
    assert response.status_code == 400 and "already answered" in response.json()["error"]
    page = client.post(reverse("submission-add-photo", args=[case.pk]), {"image": photo()})
    assert page.status_code == 400 and "already answered" in page.content.decode()
    assert Photo.objects.filter(submission=case).count() == 1


def test_a_whole_case_of_full_size_photos_fits_in_one_request(settings):
    """Six photos of the largest size a photo may have (phones without JavaScript, HEIC photos the browser
    cannot shrink) must not be refused as one request too big."""
    from classifier.decision import MAX_CASE_PHOTOS

    assert settings.MAX_REQUEST_BYTES >= MAX_CASE_PHOTOS * settings.MAX_UPLOAD_BYTES + 512 * 1024
