"""The study's progress: tqdm bars with an ETA, and the same numbers for the run's row.

The ETA weighs each fold by its estimated cost (:mod:`training.study.costs`): a whole-network fold is
worth about a hundred cached-activation folds, so counting folds would give a useless ETA. The
bar's rate (estimated seconds of work done per real second) corrects the estimate as it runs.
"""

from __future__ import annotations

import logging
import math
import time

from training.progress import ProgressReporter
from training.study.crossval import FoldCallbacks
from training.study.experiments import TrialConfig

logger = logging.getLogger(__name__)


class StudyProgress:
    """Outer bar over the study's work, inner bar over one fold's epochs (or batches)."""

    def __init__(self, bars: bool = True, reporter: ProgressReporter | None = None) -> None:
        self.bars = bars
        self.reporter = reporter
        self.outer = None
        self.inner = None
        self.folds_done = 0
        self.folds_total = 0
        self.message = ""
        self.total_weight = 0.0
        self.done_weight = 0.0
        self.started = time.monotonic()

    def start(self, total_weight: float, folds_total: int, folds_done: int) -> None:
        from tqdm import tqdm

        self.folds_total, self.folds_done = folds_total, folds_done
        self.total_weight, self.done_weight = max(total_weight, 1e-9), 0.0
        self.started = time.monotonic()
        self.outer = tqdm(
            total=max(total_weight, 1e-9),
            disable=not self.bars,
            desc="study",
            smoothing=0,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]",
        )
        self._postfix()
        self._report()

    def phase(self, message: str) -> None:
        """A step that is not a fold (decoding, augmenting, caching activations)."""
        self.message = message
        if self.outer is not None:
            self.outer.set_description_str(message[:40], refresh=True)
        self._report()

    def fold(self, config: TrialConfig, fold: int, weight: float, steps_per_epoch: int) -> FoldCallbacks:
        """Callbacks for one fold; call :meth:`fold_done` after it."""
        from tqdm import tqdm

        self._fold_weight, self._fold_credit = weight, 0.0
        self.message = f"{config.key} fold {fold + 1}"
        if self.outer is not None:
            layers = config.layers if config.layers in ("head", "all") else f"top {config.layers}"
            self.outer.set_description_str(f"{layers}, {config.optimizer}, lr {config.learning_rate:g}")
        per_batch = config.trains_whole_network
        self.inner = tqdm(
            total=config.epochs * (steps_per_epoch if per_batch else 1),
            disable=not self.bars,
            desc=f"  fold {fold + 1}",
            unit="batch" if per_batch else "epoch",
            leave=False,
            position=1,
        )
        self._report()

        def on_epoch(epoch: int, logs: dict) -> None:
            if not per_batch:
                self.inner.update(1)
            accuracy = logs.get("val_accuracy", math.nan)
            self.inner.set_postfix_str(f"epoch {epoch + 1}/{config.epochs} val_acc {accuracy:.3f}")
            credit = min(self._fold_weight / max(config.epochs, 1), self._fold_weight - self._fold_credit)
            self._fold_credit += credit
            self._advance(credit)
            self.message = f"{config.key} fold {fold + 1}, epoch {epoch + 1}/{config.epochs}"
            self._report()

        def on_batch() -> None:
            self.inner.update(1)

        return FoldCallbacks(
            on_epoch=on_epoch,
            on_batch=on_batch if per_batch else None,
            should_cancel=self.cancel_requested,
        )

    def fold_done(self) -> None:
        self.inner.close()
        self._advance(self._fold_weight - self._fold_credit)
        self.folds_done += 1
        self._postfix()
        self._report()

    def work_done(self, weight: float) -> None:
        self._advance(weight)

    def _advance(self, weight: float) -> None:
        weight = max(min(weight, self.total_weight - self.done_weight), 0.0)
        self.done_weight += weight
        if self.outer is not None:
            self.outer.update(weight)

    def eta_seconds(self) -> float | None:
        """Seconds left: the estimated work left at the rate work has been done so far."""
        elapsed = time.monotonic() - self.started
        if self.done_weight <= 0 or elapsed <= 0:
            return None
        return (self.total_weight - self.done_weight) * elapsed / self.done_weight

    def cancel_requested(self) -> bool:
        if self.reporter is None:
            return False
        try:
            return self.reporter.cancel_requested()
        except Exception:  # a database hiccup must not end hours of training
            logger.warning("could not check for cancellation", exc_info=True)
            return False

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
        if self.outer is not None:
            self.outer.close()

    def _postfix(self) -> None:
        if self.outer is not None:
            self.outer.set_postfix_str(f"folds {self.folds_done}/{self.folds_total}", refresh=True)

    def _report(self) -> None:
        if self.reporter is None:
            return
        try:
            self.reporter.update(self.folds_done, self.folds_total, self.message, self.eta_seconds())
        except Exception:
            logger.warning("could not record progress", exc_info=True)
