"""A submission becomes a case of 1 to 6 photos: the ``Photo`` table, the answer the farmer was told on the
prediction (kind, labels, photo count), and the farmer's own check. The photos move in 0015; 0016 drops
the submission's own image."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0014_merge_sms_retries_and_inference_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="answer_kind",
            field=models.CharField(
                choices=[
                    ("diagnosis", "One disease (or healthy)"),
                    ("one_of", "Leaf blight: early or late"),
                    ("not_potato_leaf", "Not a potato leaf"),
                    ("not_sure", "Not sure"),
                ],
                default="not_sure",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="prediction",
            name="answer_labels",
            field=models.JSONField(blank=True, default=list, help_text="The labels the farmer was told."),
        ),
        migrations.AddField(
            model_name="prediction",
            name="photo_count",
            field=models.PositiveSmallIntegerField(default=1, help_text="Photos the answer combines."),
        ),
        migrations.AddField(
            model_name="submission",
            name="field_check",
            field=models.CharField(
                blank=True,
                choices=[("blight", "Late or early blight"), ("wilt", "Bacterial wilt: the cut stem in water")],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="submission",
            name="field_check_answer",
            field=models.CharField(
                blank=True, choices=[("yes", "Yes"), ("no", "No"), ("cant_tell", "Can't tell")], max_length=16
            ),
        ),
        migrations.AddField(
            model_name="submission",
            name="field_check_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="Photo",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField(help_text="0 to 5, in the order the farmer sent them.")),
                ("image", models.FileField(max_length=255, upload_to="submissions/%Y/%m/%d/")),
                ("width", models.PositiveIntegerField(default=0)),
                ("height", models.PositiveIntegerField(default=0)),
                (
                    "probabilities",
                    models.JSONField(blank=True, help_text="The model's raw output; null until diagnosed.", null=True),
                ),
                (
                    "diagnosed_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Whose output.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="classifier.modelversion",
                    ),
                ),
                (
                    "is_unusable",
                    models.BooleanField(
                        default=False,
                        help_text="Marked by an officer: left out of the case's answer and of retraining.",
                    ),
                ),
                ("marked_unusable_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "marked_unusable_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "submission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="photos", to="classifier.submission"
                    ),
                ),
            ],
            options={
                "ordering": ["submission", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("submission", "position"), name="one_photo_per_position"),
                    models.CheckConstraint(condition=models.Q(("position__lt", 6)), name="at_most_six_photos"),
                ],
            },
        ),
    ]
