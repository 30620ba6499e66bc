"""Data for the dashboard: copy each prediction's upload time and district from its submission,
and seed the classes officers can choose from the labels of the model versions already registered.

Later predictions get the copies from ``services.record_prediction``; later model versions add
their classes when they are registered (``services.register_model_version``).
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_submission_fields(apps, schema_editor):
    Prediction = apps.get_model("classifier", "Prediction")
    Submission = apps.get_model("classifier", "Submission")
    submission = Submission.objects.filter(pk=OuterRef("submission_id"))
    Prediction.objects.filter(submitted_at__isnull=True).update(
        submitted_at=Subquery(submission.values("created_at")[:1]),
        district=Subquery(submission.values("district")[:1]),
    )


def seed_label_classes(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    LabelClass = apps.get_model("classifier", "LabelClass")
    known = set(LabelClass.objects.values_list("name", flat=True))
    for version in ModelVersion.objects.order_by("number"):
        for name in version.labels:
            if name not in known:
                LabelClass.objects.create(
                    name=name,
                    display_name=(
                        "Not a potato leaf" if name == version.reject_label else name.replace("_", " ").capitalize()
                    ),
                    is_reject=name == version.reject_label,
                )
                known.add(name)


class Migration(migrations.Migration):
    dependencies = [("classifier", "0003_labels_and_heatmaps")]

    operations = [
        migrations.RunPython(copy_submission_fields, migrations.RunPython.noop),
        migrations.RunPython(seed_label_classes, migrations.RunPython.noop),
    ]
