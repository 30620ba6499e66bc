"""The domain: farmers' submissions, the model's predictions, and the model versions that made them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from classifier import classes


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

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    model_file = models.FileField(upload_to=model_upload_path, max_length=255)
    labels = models.JSONField(help_text="Class names in the model's output order.")
    image_size = models.PositiveSmallIntegerField(default=128)
    reject_label = models.CharField(max_length=64, blank=True)
    decision = models.JSONField(
        default=dict,
        blank=True,
        help_text="The fitted decision rule: temperature, reject_at, unsure_below (empty: the old rule).",
    )
    metrics = models.JSONField(default=dict, blank=True)
    file_hashes = models.JSONField(
        default=dict, blank=True, help_text="sha256 of each stored model file, by storage name (keys cached copies)."
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_by = models.CharField(max_length=150, help_text="Who or what made it (a user, 'shipped', 'schedule').")
    notes = models.TextField(blank=True)
    data_snapshot = models.FileField(
        upload_to=model_upload_path, max_length=255, blank=True, help_text="Ids and sha256 of every training image."
    )
    evaluation_set = models.ForeignKey(
        "EvaluationSet", null=True, blank=True, on_delete=models.PROTECT, related_name="model_versions"
    )
    evaluation = models.JSONField(default=dict, blank=True, help_text="Scores on the evaluation set.")
    promotion_note = models.TextField(blank=True, help_text="Why it was or was not promoted.")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="one_active_model_version"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class EvaluationSet(models.Model):
    """A fixed, versioned set of labelled photos that candidate and active models are scored on:
    officer-labelled field photos held out from training, and the lab hold-out."""

    number = models.PositiveIntegerField(unique=True)
    fingerprint = models.CharField(max_length=64, unique=True, help_text="sha256 of its items.")
    items = models.JSONField(help_text='[{"source", "key", "label", "sha256"}, ...]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"evaluation set {self.number} ({len(self.items)} photos)"


class ModelVersionChange(models.Model):
    """Every change of the active model: who or what made it, and why."""

    class Action(models.TextChoices):
        SHIPPED = "shipped", "Shipped default activated"
        AUTO_PROMOTE = "auto_promote", "Promoted automatically"
        PROMOTE = "promote", "Promoted by hand"
        ROLLBACK = "rollback", "Rolled back"

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="changes")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=150, help_text="The user's name, or 'retraining', 'shipped'.")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} v{self.version.number} by {self.actor}"


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

    # For the officers' dashboard, whose queue and reports must stay fast at volume, each prediction
    # also carries what those queries filter and group on, so they read this one table:
    # - copies of the submission's upload time and district (both fixed once uploaded), made by
    #   ``services.record_prediction``;
    # - the review state, kept equal to the current ``Label`` by ``classifier.labelling`` in the
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
    # The queue's sort key (``classifier.services.review_queue_key``): photos whose farmer got no diagnosis
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


class LabelClass(models.Model):
    """A class officers can give a photo: the models' labels, plus any an admin adds (e.g. bacterial wilt)."""

    name = models.SlugField(max_length=64, unique=True, help_text="Machine name, as models and training use it.")
    display_name = models.CharField(max_length=100, blank=True)
    is_reject = models.BooleanField(default=False, help_text="The 'not a potato leaf' class.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["is_reject", "id"]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    """An officer's verdict on one submission. Rows are never edited or deleted: a new verdict is a new
    row that ``replaces`` the previous one, which then stops being current. The current rows are what
    retraining learns from (:func:`classifier.selectors.current_labels`).
    """

    class Action(models.TextChoices):
        CONFIRM = "confirm", "Confirmed"
        CORRECT = "correct", "Corrected"
        REJECT = "reject", "Rejected"

    class RejectReason(models.TextChoices):
        NOT_POTATO_LEAF = classes.NOT_POTATO_LEAF, "Not a potato leaf"
        UNUSABLE = classes.UNUSABLE, "Unusable photo"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="labels")
    action = models.CharField(max_length=16, choices=Action.choices)
    label = models.CharField(
        max_length=64, blank=True, help_text="The class the photo shows; empty for an unusable photo."
    )
    reject_reason = models.CharField(max_length=32, choices=RejectReason.choices, blank=True)
    predicted_label = models.CharField(max_length=64, blank=True, help_text="The model's answer when labelled.")
    is_current = models.BooleanField(default=True)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="labels")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["submission"], condition=Q(is_current=True), name="one_current_label"),
        ]
        indexes = [models.Index(fields=["is_current", "label"], name="label_current_label")]

    def __str__(self) -> str:
        return f"{self.action} {self.label or self.reject_reason} on {self.submission_id}"


def heatmap_upload_path(heatmap: Heatmap, filename: str) -> str:
    return f"heatmaps/v{heatmap.model_version.number}/{filename}"


class Heatmap(models.Model):
    """Where the model looked (Grad-CAM) for one submission, computed by the training worker."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, primary_key=True, related_name="heatmap")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="heatmaps")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    image = models.FileField(upload_to=heatmap_upload_path, max_length=255, blank=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"heatmap {self.submission_id} ({self.status})"


class SmsMessage(models.Model):
    """The one SMS that carries an officer's verdict to the farmer: at most one per verdict.

    The row is the outbox: what was sent, in which language, through which backend, and what went
    wrong. It never holds the phone number (that stays on the submission, and is erased).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    label = models.OneToOneField(Label, on_delete=models.PROTECT, related_name="sms")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="sms_messages")
    language = models.CharField(max_length=12)
    body = models.CharField(max_length=160)
    backend = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SMS message"

    def __str__(self) -> str:
        return f"SMS {self.status} for {self.submission_id}"
