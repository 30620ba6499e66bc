"""Officers' answers: the classes they can pick, their labels (verdicts), and Grad-CAM heatmaps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from classifier import classes
from classifier.models.registry import ModelVersion
from classifier.models.submissions import Submission


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
    retraining learns from (:func:`classifier.labels.selectors.current_labels`).
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
