"""Running a ``TrainingRun`` safely, for retraining and the study alike.

- ``Heartbeat``: a thread beats the run's heartbeat every ``TRAINING_HEARTBEAT_SECONDS`` whatever
  the training is doing (a long epoch, feature extraction), so the stale-run sweeper fails only
  runs whose worker is really gone, never a slow one.
- ``locked_running_run``: the last step of a run, in one transaction with the run's row locked and
  re-checked: still running, not cancelled. A run the sweeper failed (or an admin cancelled)
  meanwhile therefore registers, promotes and finishes nothing.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection

from training import services
from training.models import TrainingRun

logger = logging.getLogger(__name__)


class RunNoLongerRunning(Exception):
    """The run was failed (the sweeper) or cancelled while it worked: its results are dropped."""


class Heartbeat:
    """``with Heartbeat(run_id):`` beats the run's heartbeat from a thread until the block ends."""

    def __init__(self, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = settings.TRAINING_HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not services.beat_training_run(self.run_id):
                        return  # no longer running: nothing left to keep alive
                except Exception:  # a database hiccup: try again next beat
                    logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection


def locked_running_run(run_id: int) -> TrainingRun:
    """The run's row, locked until the surrounding transaction ends; raises when it is not running.

    Call it inside ``transaction.atomic()``, first thing of a run's final step.
    """
    run = TrainingRun.objects.select_for_update().get(pk=run_id)
    if run.status != TrainingRun.Status.RUNNING:
        raise RunNoLongerRunning(f"run {run_id} is {run.status}")
    if run.cancel_requested_at is not None:
        raise RunNoLongerRunning(f"run {run_id} was asked to stop")
    return run
