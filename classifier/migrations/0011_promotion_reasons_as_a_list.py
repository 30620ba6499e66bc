"""Promotion reasons become a list in ``evaluation["promotion"]``; the notes written before are split
here, once, so nothing parses them again."""

from django.db import migrations

PASSED = "cleared the accuracy floor and every class's recall"


def reasons_from_notes(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    for version in ModelVersion.objects.exclude(evaluation={}).exclude(promotion_note=""):
        evaluation = dict(version.evaluation or {})
        if "promotion" in evaluation or not evaluation.get("candidate"):
            continue
        note = version.promotion_note
        reasons = [] if note == PASSED else [reason for reason in note.split("; ") if reason]
        evaluation["promotion"] = {"passed": not reasons, "reasons": reasons}
        version.evaluation = evaluation
        version.save(update_fields=["evaluation"])


class Migration(migrations.Migration):
    dependencies = [("classifier", "0010_model_version_without_rejected")]

    operations = [migrations.RunPython(reasons_from_notes, migrations.RunPython.noop)]
