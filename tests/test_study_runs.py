"""Training runs in the database: the states a run moves through, progress, cancellation, admin."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.utils import timezone

from training import selectors, services
from training.models import TrainingRun

pytestmark = [pytest.mark.django_db, pytest.mark.tensorflow]


def new_run(kind=TrainingRun.Kind.RETRAIN):
    return services.create_training_run(kind, created_by="officer-1", parameters={"epochs": 3})


def test_a_run_goes_queued_running_done_with_aware_timestamps():
    run = new_run()
    assert run.status == TrainingRun.Status.QUEUED and run.created_at.tzinfo is not None
    assert services.start_training_run(run.pk, task_id="task-1")
    assert services.record_training_progress(run.pk, step=2, total=8, message="fold 2", eta_seconds=61.26)
    run.refresh_from_db()
    assert (run.status, run.progress_step, run.progress_total, run.eta_seconds) == ("running", 2, 8, 61.3)
    assert run.started_at.tzinfo is not None and run.heartbeat_at is not None and run.task_id == "task-1"
    assert run.fraction_done == 0.25
    assert services.finish_training_run(run.pk, metrics={"accuracy": 0.97}, artifact_path="reports/x")
    run.refresh_from_db()
    assert run.status == "done" and run.is_finished and run.progress_step == 8 and run.fraction_done == 1.0
    assert run.metrics == {"accuracy": 0.97} and run.artifact_path == "reports/x"
    assert run.finished_at >= run.started_at


def test_state_changes_from_the_wrong_state_change_nothing():
    run = new_run()
    assert not services.finish_training_run(run.pk, metrics={})
    assert not services.record_training_progress(run.pk, step=1, total=2)
    assert not services.mark_training_run_cancelled(run.pk)
    run.refresh_from_db()
    assert run.status == "queued" and run.progress_step == 0


def test_cancelling_a_queued_run_ends_it_and_a_worker_cannot_start_it():
    run = new_run()
    assert services.request_training_run_cancel(run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled" and run.finished_at is not None
    assert not services.start_training_run(run.pk)


def test_cancelling_a_running_run_asks_its_worker_which_then_stops():
    run = new_run()
    services.start_training_run(run.pk)
    assert not selectors.training_run_cancel_requested(run.pk)
    assert services.request_training_run_cancel(run.pk)
    assert selectors.training_run_cancel_requested(run.pk)
    assert selectors.training_run(run.pk).status == "running"
    assert services.mark_training_run_cancelled(run.pk)
    assert not services.finish_training_run(run.pk, metrics={"late": True})
    assert selectors.training_run(run.pk).status == "cancelled"


def test_a_failed_run_keeps_its_error():
    run = new_run()
    services.start_training_run(run.pk)
    assert services.fail_training_run(run.pk, "Traceback ...\nValueError: boom")
    run.refresh_from_db()
    assert run.status == "failed" and "boom" in run.error and run.finished_at is not None


def test_selectors_list_active_latest_and_stale_runs():
    done = new_run(TrainingRun.Kind.STUDY)
    services.start_training_run(done.pk)
    services.finish_training_run(done.pk, metrics={})
    running = new_run()
    services.start_training_run(running.pk)
    queued = new_run(TrainingRun.Kind.DEFAULT)  # one active run per kind (a database constraint)
    assert set(selectors.active_training_runs()) == {running, queued}
    assert list(selectors.active_training_runs(TrainingRun.Kind.STUDY)) == []
    assert selectors.latest_training_run(TrainingRun.Kind.STUDY) == done
    assert list(selectors.stale_training_runs(60)) == []
    TrainingRun.objects.filter(pk=running.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert list(selectors.stale_training_runs(60)) == [running]
    progress = selectors.training_run_progress(selectors.training_run(running.pk))
    assert progress["status"] == "running" and progress["cancel_requested"] is False


def test_only_one_active_run_per_kind():
    from django.db import IntegrityError, transaction

    new_run()
    with pytest.raises(IntegrityError), transaction.atomic():
        new_run()
    new_run(TrainingRun.Kind.STUDY)  # another kind may run beside it


def test_database_reporter_writes_at_most_every_few_seconds_unless_the_step_changes():
    from training.progress import DatabaseReporter

    run = new_run()
    services.start_training_run(run.pk)
    now = [0.0]
    reporter = DatabaseReporter(run.pk, min_interval=3.0, clock=lambda: now[0])
    reporter.update(0, 10, "epoch 1", 100.0)
    now[0] = 1.0
    reporter.update(0, 10, "epoch 2", 90.0)  # throttled
    assert selectors.training_run(run.pk).progress_message == "epoch 1"
    reporter.update(1, 10, "fold 2", 80.0)  # a new step is always written
    assert selectors.training_run(run.pk).progress_message == "fold 2"
    services.request_training_run_cancel(run.pk)
    assert reporter.cancel_requested()


def test_training_runs_are_in_the_admin():
    assert admin.site.is_registered(TrainingRun)
