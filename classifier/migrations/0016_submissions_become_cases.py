"""Every existing submission becomes a case of one: its image moves to a ``Photo`` at position 0 (the file
stays where it is), and its prediction records what the farmer was told under the rule of the time:
"not sure" when unsure, "not a potato leaf" when the reject class won, else a diagnosis of its label.

Frozen code: nothing here reads live project code (tests/test_migrations.py)."""

from django.db import migrations

BATCH = 2000


def submissions_to_cases(apps, schema_editor):
    Submission = apps.get_model("classifier", "Submission")
    Photo = apps.get_model("classifier", "Photo")
    Prediction = apps.get_model("classifier", "Prediction")
    rows = Submission.objects.exclude(image="").values_list("id", "image", "width", "height", "created_at")
    batch = []
    for submission_id, image, width, height, created_at in rows.iterator(chunk_size=BATCH):
        batch.append(
            Photo(
                submission_id=submission_id, position=0, image=image, width=width, height=height, created_at=created_at
            )
        )
        if len(batch) >= BATCH:
            Photo.objects.bulk_create(batch)
            batch = []
    Photo.objects.bulk_create(batch)
    Prediction.objects.filter(is_unsure=True).update(answer_kind="not_sure", answer_labels=[], photo_count=1)
    for prediction in Prediction.objects.filter(is_unsure=False).only("pk", "label", "is_potato_leaf").iterator():
        kind = "diagnosis" if prediction.is_potato_leaf else "not_potato_leaf"
        Prediction.objects.filter(pk=prediction.pk).update(
            answer_kind=kind, answer_labels=[prediction.label], photo_count=1
        )


def cases_to_submissions(apps, schema_editor):
    Submission = apps.get_model("classifier", "Submission")
    Photo = apps.get_model("classifier", "Photo")
    for photo in Photo.objects.filter(position=0).iterator():
        Submission.objects.filter(pk=photo.submission_id).update(
            image=photo.image.name, width=photo.width, height=photo.height
        )


class Migration(migrations.Migration):
    dependencies = [("classifier", "0015_case_photos")]

    operations = [migrations.RunPython(submissions_to_cases, cases_to_submissions)]
