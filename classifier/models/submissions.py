"""Farmers' submissions (cases): 1 to 6 photos from one garden, a district, an optional phone number,
and the model's one prediction for the case."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from classifier.models.registry import ModelVersion


class District(models.TextChoices):
    RUBANDA = "rubanda", "Rubanda"
    KABALE = "kabale", "Kabale"
    KISORO = "kisoro", "Kisoro"
    OTHER = "other", "Other"


class AnswerKind(models.TextChoices):
    """What the farmer was told (``classifier.decision.AnswerKind``, the values spelled once there)."""

    DIAGNOSIS = "diagnosis", "One disease (or healthy)"
    ONE_OF = "one_of", "Leaf blight: early or late"
    NOT_POTATO_LEAF = "not_potato_leaf", "Not a potato leaf"
    NOT_SURE = "not_sure", "Not sure"


class FieldCheck(models.TextChoices):
    """The check a farmer can do herself for an answer (``classifier.advice.defaults.FIELD_CHECKS``)."""

    BLIGHT = "blight", "Late or early blight"
    WILT = "wilt", "Bacterial wilt: the cut stem in water"


class CheckAnswer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    CANT_TELL = "cant_tell", "Can't tell"


class Submission(models.Model):
    """A farmer's case: 1 to 6 photos (``photos``) from one garden. The id is random and unguessable:
    it is the only key to the result."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
    # The farmer's own check (issue 24, item 4): which one she was asked, and what she saw. It chooses the
    # advice branch she is shown and is shown to officers; it never changes the model's label.
    field_check = models.CharField(max_length=16, choices=FieldCheck.choices, blank=True)
    field_check_answer = models.CharField(max_length=16, choices=CheckAnswer.choices, blank=True)
    field_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="submission_status_created")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


MAX_PHOTOS = 6  # classifier.decision.MAX_CASE_PHOTOS


class Photo(models.Model):
    """One photo of a case. ``probabilities`` is the model's raw output for it, stored once it ran."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(help_text="0 to 5, in the order the farmer sent them.")
    image = models.FileField(
        upload_to="submissions/%Y/%m/%d/", max_length=255, help_text="The copy the model reads (sent first, small)."
    )
    original = models.FileField(
        upload_to="submissions/originals/%Y/%m/%d/",
        max_length=255,
        blank=True,
        help_text="The larger copy officers zoom into, sent after the answer; empty until it arrives.",
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    probabilities = models.JSONField(null=True, blank=True, help_text="The model's raw output; null until diagnosed.")
    diagnosed_by = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Whose output."
    )
    is_unusable = models.BooleanField(
        default=False, help_text="Marked by an officer: left out of the case's answer and of retraining."
    )
    marked_unusable_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_unusable_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "position"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "position"], name="one_photo_per_position"),
            models.CheckConstraint(condition=models.Q(position__lt=MAX_PHOTOS), name="at_most_six_photos"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} #{self.position}"


class Prediction(models.Model):
    """The model's answer for one case: one row, rewritten when a photo is added or marked unusable."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, primary_key=True, related_name="prediction")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    label = models.CharField(max_length=64, db_index=True)
    confidence = models.FloatField(db_index=True)
    margin = models.FloatField(help_text="Top-1 minus top-2 probability.")
    top = models.JSONField()
    is_potato_leaf = models.BooleanField()
    is_unsure = models.BooleanField()
    answer_kind = models.CharField(max_length=16, choices=AnswerKind.choices, default=AnswerKind.NOT_SURE)
    answer_labels = models.JSONField(default=list, blank=True, help_text="The labels the farmer was told.")
    photo_count = models.PositiveSmallIntegerField(default=1, help_text="Photos the answer combines.")
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
