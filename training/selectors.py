"""Reads of training runs: lists for the dashboard, one run's progress, the cancel flag."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from training.models import TrainingRun

ACTIVE = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


def training_runs(kind: str | None = None, status: str | None = None) -> QuerySet[TrainingRun]:
    runs = TrainingRun.objects.all()
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    return runs


def training_run(run_id: int) -> TrainingRun | None:
    return TrainingRun.objects.filter(pk=run_id).first()


def training_runs_for_dashboard() -> QuerySet[TrainingRun]:
    """Every run, newest first, with the model version it produced (one query per page)."""
    return TrainingRun.objects.select_related("model_version").defer(
        "model_version__metrics", "model_version__evaluation", "model_version__labels", "model_version__notes"
    )


def retraining_in_progress() -> bool:
    """Whether a retraining run is queued or running (a new one would be refused)."""
    return active_training_runs(TrainingRun.Kind.RETRAIN).exists()


def active_training_runs(kind: str | None = None) -> QuerySet[TrainingRun]:
    return training_runs(kind).filter(status__in=ACTIVE)


def latest_training_run(kind: str, status: str | None = None) -> TrainingRun | None:
    return training_runs(kind, status).first()


def training_run_cancel_requested(run_id: int) -> bool:
    return TrainingRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


def stale_training_runs(heartbeat_older_than_seconds: int) -> QuerySet[TrainingRun]:
    """Running runs whose worker stopped reporting (it died, or the machine restarted)."""
    cutoff = timezone.now() - timedelta(seconds=heartbeat_older_than_seconds)
    return TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff)


def training_run_progress(run: TrainingRun) -> dict:
    """What a live progress view shows, as JSON-able data."""
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "step": run.progress_step,
        "total": run.progress_total,
        "fraction": round(run.fraction_done, 4),
        "message": run.progress_message,
        "eta_seconds": run.eta_seconds,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "cancel_requested": run.cancel_requested_at is not None,
        "error": run.error,
    }
