"""Writes to training runs. Every state change is one conditional UPDATE on the expected status.

Allowed transitions: queued -> running | cancelled | failed; running -> done | failed | cancelled.
A function returns False (and changes nothing) when the run is not in a state it may leave, e.g.
a worker finishing a run that was cancelled meanwhile.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from training.models import TrainingRun

Status = TrainingRun.Status
MESSAGE_LENGTH = TrainingRun._meta.get_field("progress_message").max_length


def create_training_run(
    kind: str, created_by: str, parameters: dict | None = None, artifact_path: str = ""
) -> TrainingRun:
    """A queued run."""
    return TrainingRun.objects.create(
        kind=kind, created_by=created_by, parameters=parameters or {}, artifact_path=str(artifact_path)
    )


def _transition(run_id: int, allowed: set[str], **changes) -> bool:
    return bool(TrainingRun.objects.filter(pk=run_id, status__in=allowed).update(**changes))


def start_training_run(run_id: int, task_id: str = "") -> bool:
    """queued -> running (refused if it was cancelled before a worker picked it up)."""
    now = timezone.now()
    fields = {"status": Status.RUNNING, "started_at": now, "heartbeat_at": now}
    if task_id:
        fields["task_id"] = task_id
    return _transition(run_id, {Status.QUEUED}, **fields)


def record_training_progress(
    run_id: int, step: int, total: int, message: str = "", eta_seconds: float | None = None
) -> bool:
    """Where a running run is; also its heartbeat."""
    return _transition(
        run_id,
        {Status.RUNNING},
        progress_step=max(int(step), 0),
        progress_total=max(int(total), 0),
        progress_message=message[:MESSAGE_LENGTH],
        eta_seconds=None if eta_seconds is None else round(float(eta_seconds), 1),
        heartbeat_at=timezone.now(),
    )


def beat_training_run(run_id: int) -> bool:
    """A running run's worker is alive (the heartbeat thread, between progress reports)."""
    return _transition(run_id, {Status.RUNNING}, heartbeat_at=timezone.now())


def finish_training_run(
    run_id: int, metrics: dict | None = None, artifact_path: str | None = None, model_version=None
) -> bool:
    """running -> done, with its headline metrics."""
    fields = {
        "status": Status.DONE,
        "finished_at": timezone.now(),
        "eta_seconds": 0.0,
        "metrics": metrics or {},
        "progress_step": F("progress_total"),
    }
    if artifact_path is not None:
        fields["artifact_path"] = str(artifact_path)
    if model_version is not None:
        fields["model_version"] = model_version
    return _transition(run_id, {Status.RUNNING}, **fields)


def fail_training_run(run_id: int, error: str, metrics: dict | None = None) -> bool:
    """queued/running -> failed, with the error (traceback) kept for the dashboard."""
    fields = {"status": Status.FAILED, "finished_at": timezone.now(), "error": error[-20000:], "eta_seconds": None}
    if metrics is not None:
        fields["metrics"] = metrics
    return _transition(run_id, {Status.QUEUED, Status.RUNNING}, **fields)


def request_training_run_cancel(run_id: int) -> bool:
    """Ask a run to stop. A queued run is cancelled at once; a running one when its worker next checks."""
    now = timezone.now()
    if _transition(run_id, {Status.QUEUED}, status=Status.CANCELLED, cancel_requested_at=now, finished_at=now):
        return True
    return _transition(run_id, {Status.RUNNING}, cancel_requested_at=now)


def mark_training_run_cancelled(run_id: int, metrics: dict | None = None, reason: str = "") -> bool:
    """running -> cancelled: the worker stopped after a cancel request (or was interrupted)."""
    fields = {"status": Status.CANCELLED, "finished_at": timezone.now(), "eta_seconds": None}
    if reason:
        fields["progress_message"] = reason[:MESSAGE_LENGTH]
    if metrics is not None:
        fields["metrics"] = metrics
    return _transition(run_id, {Status.RUNNING}, **fields)
