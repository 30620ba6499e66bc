"""Backups (``manage.py backup`` / ``restore``, webapp/backups/): a site with cases of several photos, officers'
labels, model versions and SMS is backed up, restored into an empty database and an empty media folder, and
every row and file comes back, with the active model still answering. On SQLite and on PostgreSQL alike."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from classifier.models import (
    Label,
    LabelClass,
    ModelVersion,
    ModelVersionChange,
    Photo,
    Prediction,
    SmsMessage,
    Submission,
)
from tests.images import heldout_photos

PHONE = "+256772123456"
# Every row of these is compared field by field after the restore (the other tables by their counts).
COMPARED = [Submission, Photo, Prediction, Label, SmsMessage, ModelVersion, ModelVersionChange, LabelClass]


@pytest.fixture
def schema_back_if_left_empty():
    """Should the test fail between emptying the database and restoring it, the tests after it still find
    their tables (migrated anew)."""
    yield
    if not connection.introspection.table_names():
        call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_a_backup_restores_every_row_and_file_into_an_empty_database_and_media_folder(
    settings, tmp_path, monkeypatch, officer, schema_back_if_left_empty
):
    settings.MEDIA_ROOT = tmp_path / "site-media"
    case = build_site(officer, monkeypatch)
    rows, counts, files = every_row(), table_counts(), media_hashes(settings.MEDIA_ROOT)
    photo = Photo.objects.filter(submission_id=case).order_by("position").first()

    backup = tmp_path / "backup"
    call_command("backup", str(backup), stdout=(out := io.StringIO()))
    assert "Backed up" in out.getvalue()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["tables"] == counts
    assert {entry["name"]: entry["sha256"] for entry in manifest["media"]["files"]} == files
    assert manifest["missing_media"] == []  # every file a row names was backed up

    with pytest.raises(CommandError, match="not empty"):  # never over a live database
        call_command("restore", str(backup))

    empty_the_database()
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    tampered = tmp_path / "tampered"
    shutil.copytree(backup, tampered)
    with open(tampered / "media" / photo.image.name, "r+b") as damaged:
        damaged.seek(200)
        damaged.write(b"\0\0\0\0")
    with pytest.raises(CommandError, match="sha256"):  # the backup is checked before anything changes
        call_command("restore", str(tampered))
    assert connection.introspection.table_names() == [] and not Path(settings.MEDIA_ROOT).exists()

    call_command("restore", str(backup), stdout=(out := io.StringIO()))
    assert "Restored and verified" in out.getvalue()
    assert table_counts() == counts
    assert every_row() == rows
    assert media_hashes(settings.MEDIA_ROOT) == files

    # The active model still answers, from its restored file, as it did before.
    from classifier import inference
    from classifier.registry.selectors import active_model_version

    inference._cached.clear()  # the process's loaded model is keyed by version: load the restored file
    version = active_model_version()
    assert version.number == 1 and Path(version.model_file.path).is_relative_to(settings.MEDIA_ROOT)
    predictor = inference.predictor_for(version)
    with default_storage.open(photo.image.name, "rb") as image:
        probabilities = predictor.probabilities(image)
    np.testing.assert_allclose(probabilities, Photo.objects.get(pk=photo.pk).probabilities, atol=1e-5)
    with default_storage.open(photo.image.name, "rb") as image:
        assert predictor.predict(image).label in version.labels


def build_site(officer, monkeypatch) -> str:
    """The shipped model (active), a retrained candidate promoted then rolled back; a case of three photos and
    one of two, answered by the inference task, and one still pending; an officer's verdict, corrected; a
    photo marked unusable; verdict SMS sent; a thumbnail. The id of the three-photo case."""
    from classifier.labels.services import label_submission
    from classifier.registry.services import activate_model_version, ensure_default_model, register_model_version
    from classifier.sms.backends import ConsoleBackend
    from classifier.sms.services import send_verdict_sms
    from classifier.submissions import services as submission_services
    from classifier.tasks import diagnose_submission
    from classifier.tasks import send_verdict_sms as sms_task
    from classifier.thumbnails import ensure_thumbnail
    from classifier.validators import validate_photo

    monkeypatch.setattr(submission_services, "enqueue_inference", lambda submission_id, **_: True)  # no worker here
    monkeypatch.setattr(sms_task, "apply_async", lambda *args, **kwargs: None)

    shipped = ensure_default_model(django_settings.DEFAULT_MODEL_DIR)
    retrained = register_model_version(django_settings.DEFAULT_MODEL_DIR, created_by="schedule", parent=shipped)
    activate_model_version(retrained, actor="atim", reason="better on the evaluation set")
    activate_model_version(shipped, ModelVersionChange.Action.ROLLBACK, actor="atim", reason="worse in the field")

    def case(label: str, photos: int, phone: str = "") -> Submission:
        uploads = [SimpleUploadedFile(p.name, p.read_bytes()) for p in heldout_photos(label, photos)]
        return submission_services.create_submission(
            [validate_photo(upload) for upload in uploads], "kabale", phone, "cgg"
        )

    three, two = case("late_blight", 3, PHONE), case("healthy", 2, PHONE)
    case("early_blight", 1)  # pending: no worker has answered it
    for submission in (three, two):
        assert diagnose_submission(str(submission.pk)) == Submission.Status.DONE
    label_submission(three.pk, officer, label="early_blight")
    corrected = label_submission(three.pk, officer, label="late_blight")
    verdict = label_submission(two.pk, officer, label="healthy")
    for label in (corrected, verdict):
        assert send_verdict_sms(label.pk, backend=ConsoleBackend()) == SmsMessage.Status.SENT
    submission_services.mark_photo_unusable(Photo.objects.get(submission=two, position=1).pk, officer)
    first = Photo.objects.get(submission=three, position=0)
    ensure_thumbnail(three.pk, first.image.name)
    return str(three.pk)


def every_row() -> dict[str, list[dict]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in COMPARED}


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    assert counts["classifier_photo"] == 6 and counts["classifier_smsmessage"] == 2  # the site is what it says
    return counts


def media_hashes(root) -> dict[str, str]:
    root = Path(root)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def empty_the_database() -> None:
    """Drop every table, as a new database has none (the test database is rebuilt by the restore)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        else:
            connection.disable_constraint_checking()
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
            connection.enable_constraint_checking()
    assert connection.introspection.table_names() == []



def test_media_go_out_and_back_through_the_storage_api_on_s3_too(s3_media, tmp_path):
    """Media are read and written through Django's storage, so S3 media are backed up like the local folder."""
    from django.core.files.base import ContentFile

    from webapp.backups import media

    for name, content in {"submissions/2026/12/07/a.jpg": b"leaf", "models/v1/model.tflite": b"model"}.items():
        default_storage.save(name, ContentFile(content))
    copied = media.copy_out(default_storage, tmp_path / "media")
    sizes = {entry.name: entry.size for entry in copied}
    assert sizes == {"submissions/2026/12/07/a.jpg": 4, "models/v1/model.tflite": 5}
    default_storage.delete("submissions/2026/12/07/a.jpg")
    default_storage.delete("models/v1/model.tflite")
    default_storage.save("models/v1/model.tflite", ContentFile(b"other"))
    assert media.conflicts(default_storage, copied) == ["models/v1/model.tflite"]  # never overwritten
    default_storage.delete("models/v1/model.tflite")
    assert media.copy_in(default_storage, tmp_path / "media", copied) == 2
    assert sorted(s3_media()) == ["models/v1/model.tflite", "submissions/2026/12/07/a.jpg"]
    assert default_storage.open("submissions/2026/12/07/a.jpg").read() == b"leaf"
