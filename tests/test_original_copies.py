"""A photo's larger copy, sent after the answer in resumable pieces (issue 26): kept once whole and checked
like any upload, resumed from where it stopped, refused clearly, served to officers instead of the small
copy, and never needed for the answer."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from classifier.models import Photo
from classifier.submissions import originals
from tests.images import heldout_photos, jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(client):
    response = client.post(
        "/api/v1/submissions",
        {"image": SimpleUploadedFile("leaf.jpg", jpeg_bytes(size=(384, 288)), content_type="image/jpeg")},
    )
    assert response.status_code == 202
    return response.json()["id"]


def larger_copy() -> bytes:
    """A 1600x1200 leaf photo with EXIF (a camera model and a GPS block), a few hundred KB."""
    image = Image.open(heldout_photos("early_blight", 1)[0]).convert("RGB").resize((1600, 1200))
    exif = Image.Exif()
    exif[0x0110] = "Phone X"
    exif[0x8825] = {1: "N"}
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80, exif=exif)
    return out.getvalue()


def send(client, case, content: bytes, start: int, end: int, position: int = 0):
    return client.put(
        f"/api/v1/submissions/{case}/photos/{position}/original",
        content[start:end],
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {start}-{end - 1}/{len(content)}",
    )


def test_pieces_make_the_larger_copy_kept_without_metadata(client, case, django_capture_on_commit_callbacks):
    content = larger_copy()
    half = len(content) // 2
    url = f"/api/v1/submissions/{case}/photos/0/original"
    assert client.get(url).json() == {"received": 0, "total": None, "complete": False}

    first = send(client, case, content, 0, half)
    assert first.status_code == 200 and first.json() == {"received": half, "total": len(content), "complete": False}
    assert client.get(url).json()["received"] == half  # what a phone resumes from after losing signal
    assert not Photo.objects.get(submission_id=case).original

    with django_capture_on_commit_callbacks(execute=True):
        last = send(client, case, content, half, len(content))
    assert last.status_code == 200 and last.json()["complete"] is True
    photo = Photo.objects.get(submission_id=case)
    with default_storage.open(photo.original.name) as stored, Image.open(stored) as image:
        assert image.size == (800, 600) and not image.getexif()  # decoded at half size (validate_photo), no EXIF
    assert photo.image.name != photo.original.name and (photo.width, photo.height) == (384, 288)
    assert not default_storage.exists(f"partial/{case}-0") or not default_storage.listdir(f"partial/{case}-0")[1]
    assert client.get(url).json()["complete"] is True
    assert send(client, case, content, 0, half).json()["complete"] is True  # a late resend changes nothing


def test_a_piece_sent_twice_is_kept_once_and_a_gap_says_where_to_resume(
    client, case, django_capture_on_commit_callbacks
):
    content = larger_copy()
    third = len(content) // 3
    assert send(client, case, content, 0, third).status_code == 200
    again = send(client, case, content, 0, third)  # the answer was lost on the way: sent again
    assert again.status_code == 200 and again.json()["received"] == third
    skipped = send(client, case, content, 2 * third, len(content))
    assert skipped.status_code == 409 and skipped.json()["received"] == third
    overlapping = send(client, case, content, third // 2, 2 * third)  # from before the end: the new part kept
    assert overlapping.json()["received"] == 2 * third
    with django_capture_on_commit_callbacks(execute=True):
        assert send(client, case, content, 2 * third, len(content)).json()["complete"] is True
    photo = Photo.objects.get(submission_id=case)
    with default_storage.open(photo.original.name) as stored:
        assert Image.open(stored).size == (800, 600)


@pytest.mark.parametrize(
    ("content_range", "status"),
    [
        ("", 400),
        ("bytes 0-9/100", 400),  # the body is not 10 bytes
        ("items 0-99/100", 400),
        ("bytes 0-99/abc", 400),
        ("bytes 50-10/100", 400),
        ("bytes 0-99/99", 400),  # the piece overruns the copy
        (f"bytes 0-99/{16 * 1024 * 1024}", 400),  # over MAX_UPLOAD_BYTES
    ],
)
def test_malformed_pieces_are_refused_clearly(client, case, content_range, status):
    response = client.put(
        f"/api/v1/submissions/{case}/photos/0/original",
        b"x" * 100,
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=content_range,
    )
    assert response.status_code == status and response.json()["error"]


def test_a_copy_that_is_not_a_photo_is_refused_and_forgotten(client, case):
    content = b"not a photo at all" * 100
    response = send(client, case, content, 0, len(content))
    assert response.status_code == 400 and "photo" in response.json()["error"]
    assert client.get(f"/api/v1/submissions/{case}/photos/0/original").json()["received"] == 0
    assert not Photo.objects.get(submission_id=case).original


def test_unknown_photos_are_not_found(client, case):
    assert client.get(f"/api/v1/submissions/{case}/photos/5/original").status_code == 404
    content = larger_copy()
    unknown = "00000000-0000-0000-0000-000000000000"
    assert send(client, unknown, content, 0, 1000).status_code == 404
    assert client.post(f"/api/v1/submissions/{case}/photos/0/original").status_code == 405


def test_pieces_of_copies_that_stopped_arriving_are_deleted_after_a_day(client, case):
    """Judged by when a piece last came, not the case's age: a phone offline for days still resumes."""
    content = larger_copy()
    send(client, case, content, 0, 1000)
    assert originals.forget_partial_originals() == 0  # a piece came just now: the phone may still resume
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    for piece in (Path(default_storage.path("partial")) / f"{case}-0").iterdir():
        os.utime(piece, (two_days_ago, two_days_ago))
    assert originals.forget_partial_originals() == 1
    assert client.get(f"/api/v1/submissions/{case}/photos/0/original").json()["received"] == 0


def test_officers_see_the_larger_copy_once_it_arrived(client, case, officer, django_capture_on_commit_callbacks):
    from django.test import Client

    officer_client = Client()
    officer_client.force_login(officer)
    url = f"/dashboard/s/{case}/photo"
    with Image.open(io.BytesIO(b"".join(officer_client.get(url).streaming_content))) as image:
        assert image.size == (384, 288)  # the small copy until the larger one arrives
    content = larger_copy()
    with django_capture_on_commit_callbacks(execute=True):
        send(client, case, content, 0, len(content))
    with Image.open(io.BytesIO(b"".join(officer_client.get(url).streaming_content))) as image:
        assert image.size == (800, 600)


def test_a_piece_declared_over_1_mb_is_refused_before_it_is_read(client, case):
    response = client.put(
        f"/api/v1/submissions/{case}/photos/0/original",
        b"x" * (originals.MAX_PIECE_BYTES + 1),
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes 0-{originals.MAX_PIECE_BYTES}/{originals.MAX_PIECE_BYTES + 1}",
    )
    assert response.status_code == 413 and response.json()["error"]
