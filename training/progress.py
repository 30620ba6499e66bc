"""Progress of a training run, for the dashboard: one reporter writes steps, messages and the ETA
to the run's row (throttled) and reads its cancel flag. Retraining reports through
:class:`RunProgress`; the study's bars (``training.study.progress``) report through the same
:class:`DatabaseReporter`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)


class TrainingCancelled(Exception):
    """Training stopped because someone asked it to."""


class ProgressReporter(Protocol):
    """Where progress goes besides the terminal (the database, for the dashboard)."""

    def update(self, step: int, total: int, message: str, eta_seconds: float | None) -> None: ...

    def cancel_requested(self) -> bool: ...


class DatabaseReporter:
    """Progress and cancellation through ``training.services`` / ``training.selectors``.

    Writes at most every ``min_interval`` seconds, except when the step changes.
    """

    def __init__(self, run_id: int, min_interval: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.run_id = run_id
        self.min_interval = min_interval
        self.clock = clock
        self._last_write = -math.inf
        self._last_step = -1

    def update(self, step: int, total: int, message: str, eta_seconds: float | None) -> None:
        from training.services import record_training_progress

        now = self.clock()
        if step == self._last_step and now - self._last_write < self.min_interval:
            return
        record_training_progress(self.run_id, step=step, total=total, message=message, eta_seconds=eta_seconds)
        self._last_write, self._last_step = now, step

    def cancel_requested(self) -> bool:
        from training.selectors import training_run_cancel_requested

        return training_run_cancel_requested(self.run_id)


class RunProgress:
    """A retraining run's steps and log lines into its row (``DatabaseReporter``, every line
    written); a cancel request stops training at the next line."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.reporter = DatabaseReporter(run_id, min_interval=0.0)
        self.total = 1
        self.done = 0

    def say(self, message: str) -> None:
        self.reporter.update(self.done, self.total, message, None)

    def step(self, done: int, message: str, eta: float | None = None) -> None:
        self.done = done
        self.reporter.update(done, self.total, message, eta)

    def log(self, message: str) -> None:
        """A line of training's log: shown as the run's message; a cancel request stops training here."""
        logger.info("run %s: %s", self.run_id, message)
        self.say(message)
        if self.reporter.cancel_requested():
            raise TrainingCancelled("cancelled by request")
