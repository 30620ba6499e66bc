"""Cross-validating one configuration: one model, its weights reset between folds, each fold stored.

Building and compiling a model, and tracing its training step, costs seconds (tens of seconds for
the whole network on a busy CPU); so each configuration builds one model, snapshots its initial weights and
optimizer state, and restores them before every fold. Configurations that train only the head or
the top layers train the model's trainable part on cached activations
(:mod:`training.study.features`); the whole network trains on the images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from training.study.data import StudyData
from training.study.experiments import StudySettings, TrialConfig
from training.study.features import CachedActivations, trainable_spec

PREDICT_BATCH = 128


class Cancelled(Exception):
    """The run was asked to stop; the fold in progress is not stored."""


@dataclass
class FoldCallbacks:
    """Hooks the study passes in: per-epoch progress and the cancel check."""

    on_epoch: Callable[[int, dict], None] | None = None
    on_batch: Callable[[], None] | None = None
    should_cancel: Callable[[], bool] | None = None


class ConfigTrainer:
    """One compiled model for ``config``; :meth:`run_fold` trains and evaluates it on one fold."""

    def __init__(
        self,
        config: TrialConfig,
        settings: StudySettings,
        data: StudyData,
        activations: CachedActivations | None,
    ) -> None:
        import keras

        from training.architecture import (
            build_classifier,
            compile_classifier,
            frozen_boundary,
            set_trainable_layers,
            trainable_part,
        )

        started = time.monotonic()
        self.config, self.settings, self.data, self.activations = config, settings, data, activations
        keras.utils.set_random_seed(settings.seed)
        self.full_model = build_classifier(
            len(data.photos.class_names),
            settings.image_size,
            weights=settings.weights,
            dropout=config.dropout,
            head_activation=config.activation,
        )
        set_trainable_layers(self.full_model, trainable_spec(config.layers))
        if config.trains_whole_network:
            self.model = self.full_model
        else:
            if activations is None:
                raise ValueError(f"{config.key} trains on cached activations; none were given")
            boundary = frozen_boundary(self.full_model)
            if boundary is None:
                raise ValueError(f"{config.key}: nothing is frozen, so nothing can be cached")
            self.model = trainable_part(self.full_model, boundary)
        compile_classifier(self.model, config.optimizer, config.learning_rate)
        self.model.optimizer.build(self.model.trainable_variables)
        # Every variable, the dropout layer's random-seed state included: a fold then trains the same
        # whichever folds ran before it in this process (a resumed run reproduces an unbroken one).
        self.initial_state = [variable.numpy() for variable in self.model.variables]
        self.initial_optimizer = [variable.numpy() for variable in self.model.optimizer.variables]
        self.setup_seconds = time.monotonic() - started

    def reset(self) -> None:
        """Back to the freshly built model and optimizer, without rebuilding or retracing."""
        for variable, value in zip(self.model.variables, self.initial_state, strict=True):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self.initial_optimizer, strict=True):
            variable.assign(value)

    def inputs(self, views: np.ndarray) -> np.ndarray:
        if self.activations is not None:
            return self.activations.views(views)
        return self.data.view_images(views)

    def run_fold(
        self, fold: int, train_views: np.ndarray, val_views: np.ndarray, callbacks: FoldCallbacks | None = None
    ) -> dict:
        """Train on ``train_views``, early-stop on ``val_views``; return the fold's stored record."""
        import keras

        from training.datasets import make_dataset

        callbacks = callbacks or FoldCallbacks()
        self.reset()
        keras.utils.set_random_seed(self.settings.seed + fold)
        config, data = self.config, self.data
        train_x, train_y = self.inputs(train_views), data.view_labels(train_views)
        val_x, val_y = self.inputs(val_views), data.view_labels(val_views)
        train_data = make_dataset(train_x, train_y, config.batch_size, shuffle=True, seed=self.settings.seed + fold)
        val_data = make_dataset(val_x, val_y, PREDICT_BATCH, shuffle=False)
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
        watcher = _epoch_watcher(callbacks)
        started = time.monotonic()
        fit = self.model.fit(
            train_data,
            validation_data=val_data,
            epochs=config.epochs,
            callbacks=[stopper, watcher],
            shuffle=False,  # the dataset shuffles itself, seeded per fold
            verbose=0,
        )
        fit_seconds = time.monotonic() - started
        if watcher.cancelled:
            raise Cancelled(f"cancelled during {config.key} fold {fold}")

        started = time.monotonic()
        if self.activations is not None:
            test_x, field_x = self.activations.test, self.activations.field
        else:
            test_x, field_x = data.test.images, data.field.images
        val_p, test_p, field_p = self._predict([val_x, test_x, field_x])
        predictions = {
            "validation": _prediction_record(val_y, val_p, [data.photos.dev_photo_ids[i] for i in val_views[:, 0]]),
            "test": _prediction_record(data.test.labels, test_p, [item.photo_id for item in data.test.items]),
            "field": _prediction_record(data.field.labels, field_p, [item.photo_id for item in data.field.items]),
        }
        predictions["validation"]["copies"] = [int(copy) for copy in val_views[:, 1]]
        predictions["validation"]["leaked"] = _leaked(train_views, val_views).tolist()
        predict_seconds = time.monotonic() - started

        history = {key: [float(value) for value in values] for key, values in fit.history.items()}
        history["seconds"] = watcher.epoch_seconds
        epochs_run = len(history.get("loss", []))
        train_seconds = float(sum(watcher.epoch_seconds))
        return {
            "config_key": config.key,
            "config": config.to_dict(),
            "fold": fold,
            "folds": self.settings.folds,
            "protocol": config.protocol,
            "class_names": list(data.photos.class_names),
            "train": {"views": int(len(train_views)), "photos": int(len(np.unique(train_views[:, 0])))},
            "history": history,
            "epochs_run": epochs_run,
            "stopped_early": bool(stopper.stopped_epoch > 0),
            "trains_whole_network": config.trains_whole_network,
            "predictions": predictions,
            "seconds": {
                "setup": round(self.setup_seconds, 3),
                "fit": round(fit_seconds, 3),
                "predict": round(predict_seconds, 3),
            },
            "train_images_per_second": round(epochs_run * len(train_views) / train_seconds, 2) if train_seconds else 0,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _predict(self, parts: list[np.ndarray]) -> list[np.ndarray]:
        """Class probabilities for several arrays in one ``predict`` call (one traced function)."""
        from training.datasets import make_dataset

        sizes = [len(part) for part in parts]
        if not sum(sizes):
            return [np.zeros((0, len(self.data.photos.class_names))) for _ in parts]
        joined = np.concatenate(parts)
        dummy = np.zeros(len(joined), dtype=np.int32)
        probabilities = self.model.predict(make_dataset(joined, dummy, PREDICT_BATCH, shuffle=False), verbose=0)
        return np.split(np.asarray(probabilities, dtype=np.float64), np.cumsum(sizes)[:-1])


def _prediction_record(labels: np.ndarray, probabilities: np.ndarray, photo_ids: list[str]) -> dict:
    return {
        "photo_ids": list(photo_ids),
        "labels": [int(label) for label in labels],
        "probabilities": np.round(probabilities, 6).tolist(),
    }


def _leaked(train_views: np.ndarray, val_views: np.ndarray) -> np.ndarray:
    """For each validation view: does a view of the same photo sit in training?"""
    return np.isin(val_views[:, 0], np.unique(train_views[:, 0]))


def _epoch_watcher(hooks: FoldCallbacks):
    """A Keras callback that times epochs, reports progress and stops training on cancel."""
    import keras

    class EpochWatcher(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch_seconds: list[float] = []
            self.cancelled = False
            self._started = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            if hooks.on_batch:
                hooks.on_batch()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(round(time.monotonic() - self._started, 3))
            if hooks.on_epoch:
                hooks.on_epoch(epoch, {key: float(value) for key, value in (logs or {}).items()})
            if hooks.should_cancel and hooks.should_cancel():
                self.cancelled = True
                self.model.stop_training = True

    return EpochWatcher()
