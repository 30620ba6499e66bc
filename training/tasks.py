"""Celery tasks on the ``training`` queue (its own worker, concurrency 1): TensorFlow lives here."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from training import retraining


@shared_task(bind=True, acks_late=True)
def retrain_model(self, run_id: int) -> str:
    """Train, score and maybe promote. A redelivered message (Redis visibility timeout) finds the
    run no longer queued and does nothing: ``run_retraining`` is guarded."""
    return retraining.run_retraining(run_id, task_id=self.request.id or "")


@shared_task
def scheduled_retraining() -> str:
    """The weekly check (django-celery-beat): retrain only when enough new labels arrived."""
    new_labels = retraining.new_labels_since_last_run()
    if new_labels < settings.RETRAIN_MIN_NEW_LABELS:
        return f"{new_labels} new labels, fewer than {settings.RETRAIN_MIN_NEW_LABELS}: no run"
    try:
        run = retraining.start_retraining("schedule")
    except retraining.RetrainingAlreadyRunning:
        return "a run is already queued or running"
    return f"started run {run.pk} on {new_labels} new labels"


@shared_task
def fail_stale_training_runs() -> int:
    return retraining.fail_stale_runs()
