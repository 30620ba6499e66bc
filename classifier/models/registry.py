"""The model registry: trained model versions, the photos each was evaluated on, and every change
of which version serves (promotion, rollback)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from classifier.preprocessing import DEFAULT_IMAGE_SIZE


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
    image_size = models.PositiveSmallIntegerField(default=DEFAULT_IMAGE_SIZE)
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
