"""Training runs: the study, retraining and the shipped model's training, as rows a dashboard lists."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class TrainingRun(models.Model):
    """One training job: what it was asked to do, how far it is, and what it produced.

    Written only through ``training.services`` (state changes are conditional updates, so a
    cancel and a finish racing each other leave one consistent state); read through
    ``training.selectors``.
    """

    class Kind(models.TextChoices):
        STUDY = "study", "Study reproduction"
        RETRAIN = "retrain", "Retraining"
        DEFAULT = "default", "Default model"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="What the run was asked to do.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Headline results, once done.")
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=255, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True, help_text="Estimated seconds left, when last reported.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last progress report from the worker.")
    artifact_path = models.CharField(max_length=500, blank=True, help_text="Report or model folder it wrote.")
    model_version = models.ForeignKey(
        "classifier.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_runs",
        help_text="The model version it produced (retraining).",
    )
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, help_text="Who or what asked for it (a user, 'cli', 'schedule').")
    task_id = models.CharField(max_length=255, blank=True, help_text="Celery task id, when run by a worker.")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "created_at"], name="training_run_kind_status")]
        constraints = [
            # One training of each kind at a time: a second request finds this and says one is running.
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status__in=["queued", "running"]), name="one_active_run_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def fraction_done(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        return min(self.progress_step / self.progress_total, 1.0) if self.progress_total else 0.0
