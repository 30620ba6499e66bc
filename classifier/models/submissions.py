"""Farmers' submissions (a photo, a district, an optional phone number) and the model's prediction
for each."""

from __future__ import annotations

import uuid

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from classifier.models.registry import ModelVersion


class District(models.TextChoices):
    RUBANDA = "rubanda", "Rubanda"
    KABALE = "kabale", "Kabale"
    KISORO = "kisoro", "Kisoro"
    OTHER = "other", "Other"


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
    language = models.CharField(max_length=12, blank=True, help_text="The page's language at upload (for the SMS).")
    phone = PhoneNumberField(
        blank=True,
        help_text="Only to send the officer's answer by SMS; erased some days after it is sent.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    enqueue_count = models.PositiveIntegerField(default=0, help_text="Times its inference task was published.")
    inference_attempts = models.PositiveIntegerField(
        default=0, help_text="Times a worker started the model on it (a redelivered task counts again)."
    )
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

    # For the officers' dashboard, whose queue and reports must stay fast at volume, each prediction
    # also carries what those queries filter and group on, so they read this one table:
    # - copies of the submission's upload time and district (both fixed once uploaded), made by
    #   ``services.record_prediction``;
    # - the review state, kept equal to the current ``Label`` by ``classifier.labels.services`` in the
    #   same transaction (``Label`` rows stay the record; these two columns follow them).
    class ReviewStatus(models.TextChoices):
        UNREVIEWED = "unreviewed", "Not reviewed"
        CONFIRMED = "confirmed", "Confirmed"
        CORRECTED = "corrected", "Corrected"
        REJECTED = "rejected", "Rejected"

    submitted_at = models.DateTimeField(null=True, blank=True, help_text="The submission's upload time (a copy).")
    district = models.CharField(max_length=16, choices=District.choices, blank=True, help_text="A copy.")
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.UNREVIEWED)
    reviewed_label = models.CharField(
        max_length=64, blank=True, help_text="The current officer label; empty when unreviewed or unusable."
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="When the current officer label was given.")
    answered_at = models.DateTimeField(null=True, blank=True, help_text="When an officer first answered.")
    # The queue's sort key (``classifier.submissions.services.review_queue_key``): photos whose farmer got no diagnosis
    # first, oldest first, then the rest least certain first; one column keeps the order indexable.
    queue_key = models.FloatField(default=0)

    class Meta:
        indexes = [
            # The review queue per review status (and its next/previous).
            models.Index(fields=["review_status", "queue_key", "margin", "submission"], name="prediction_queue"),
            # Reports: an index-only scan of a date range.
            models.Index(
                fields=["submitted_at", "district", "label", "is_unsure", "review_status", "reviewed_label"],
                name="prediction_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.confidence:.2f}"
