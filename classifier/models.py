"""The domain: farmers' submissions, the model's predictions, and the model versions that made them."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class District(models.TextChoices):
    RUBANDA = "rubanda", "Rubanda"
    KABALE = "kabale", "Kabale"
    KISORO = "kisoro", "Kisoro"
    OTHER = "other", "Other"


def model_upload_path(version: ModelVersion, filename: str) -> str:
    return f"models/v{version.number}/{filename}"


class ModelVersion(models.Model):
    """One trained model: its served file, label set and metrics. Exactly one is active."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        REJECTED = "rejected", "Rejected"

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    model_file = models.FileField(upload_to=model_upload_path, max_length=255)
    labels = models.JSONField(help_text="Class names in the model's output order.")
    image_size = models.PositiveSmallIntegerField(default=128)
    reject_label = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_by = models.CharField(max_length=150, help_text="Who or what made it (a user, 'shipped', 'schedule').")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="one_active_model_version"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class Submission(models.Model):
    """A farmer's photo. The id is random and unguessable: it is the only key to the result."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    image = models.FileField(upload_to="submissions/%Y/%m/%d/", max_length=255)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    district = models.CharField(max_length=16, choices=District.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="submission_status_created")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class Prediction(models.Model):
    """The model's answer for one submission: at most one, whatever the number of deliveries."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, primary_key=True, related_name="prediction")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    label = models.CharField(max_length=64, db_index=True)
    confidence = models.FloatField(db_index=True)
    margin = models.FloatField(help_text="Top-1 minus top-2 probability.")
    top = models.JSONField()
    is_potato_leaf = models.BooleanField()
    is_unsure = models.BooleanField()
    inference_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.label} {self.confidence:.2f}"


class Advice(models.Model):
    """What farmers are told to do for one answer, in one language; admins edit it in the admin.

    ``label`` is a model label (``late_blight``...) or ``unsure`` / ``general``. Seeded from
    ``classifier.advice`` by migration 0002; when a row is missing the code default is shown.
    """

    label = models.CharField(max_length=64)
    language = models.CharField(max_length=12)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    needs_review = models.BooleanField(
        default=False, help_text="Tick while the text awaits checking by a native speaker or an agronomist."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "language"]
        verbose_name_plural = "advice"
        constraints = [models.UniqueConstraint(fields=["label", "language"], name="one_advice_per_label_language")]

    def __str__(self) -> str:
        return f"{self.label} ({self.language})"


class AdviceStep(models.Model):
    """One practical step of an advice, with the source of the recommendation."""

    advice = models.ForeignKey(Advice, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="Where the recommendation comes from.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:60]
