"""Retraining on officers' labels: gather the data, train a candidate, score it beside the active
model on the fixed evaluation set, register it, and promote it only when it clears the policy.

``start_retraining`` is what ``manage.py retrain``, the dashboard button and the schedule call;
``run_retraining`` is the work itself, on the training worker (or in-process for the CLI).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from classifier import selectors as classifier_selectors
from classifier import services as classifier_services
from classifier.evaluation import evaluate_items
from classifier.inference import Predictor
from classifier.models import EvaluationSet, ModelVersionChange
from classifier.promotion import PromotionPolicy, decide_promotion
from training import selectors, services
from training.datasets import (
    LabelledImage,
    hash_fraction,
    list_class_images,
    list_negative_images,
    split_by_photo,
)
from training.default_model import DefaultModelConfig, TrainingCancelled, train_from_items, training_stages
from training.models import TrainingRun

logger = logging.getLogger(__name__)
LAB_HOLDOUT_FRACTION = 0.2  # the same hash split as the shipped model's lab hold-out
VALIDATION_FRACTION = 0.1  # of the training side, for early stopping


class RetrainingAlreadyRunning(Exception):
    pass


@dataclass
class RetrainingData:
    train: list[LabelledImage] = field(default_factory=list)
    validation: list[LabelledImage] = field(default_factory=list)
    evaluation: list[dict] = field(default_factory=list)  # {"source", "key", "label", "sha256", "path"}
    class_names: list[str] = field(default_factory=list)
    labelled_uploads: int = 0


# -- starting ---------------------------------------------------------------------------------


def start_retraining(created_by: str, shuffle_labels: bool = False, enqueue: bool = True) -> TrainingRun:
    """Queue one retraining run; refuses while another is queued or running (one at a time)."""
    parameters = {"shuffle_labels": shuffle_labels, "labels_at_start": classifier_selectors.current_labels().count()}
    try:
        with transaction.atomic():
            run = services.create_training_run(TrainingRun.Kind.RETRAIN, created_by, parameters)
    except IntegrityError:
        raise RetrainingAlreadyRunning("A retraining run is already queued or running.") from None
    if enqueue:
        transaction.on_commit(lambda: _publish(run.pk))
    return run


def _publish(run_id: int) -> None:
    """Send the run to the training worker; if Redis is unreachable, fail the run at once so that
    it does not block every later one."""
    from training.tasks import retrain_model

    try:
        retrain_model.apply_async(args=[run_id])
    except Exception:  # kombu raises many kinds of connection errors
        logger.exception("could not enqueue retraining run %s", run_id)
        services.fail_training_run(run_id, "could not reach the task queue (Redis) to start it")


def new_labels_since_last_run() -> int:
    """Officer labels made since the last retraining run that finished."""
    last = selectors.latest_training_run(TrainingRun.Kind.RETRAIN, TrainingRun.Status.DONE)
    labels = classifier_selectors.current_labels()
    return labels.filter(created_at__gt=last.started_at).count() if last and last.started_at else labels.count()


# -- the work ---------------------------------------------------------------------------------


def run_retraining(run_id: int, task_id: str = "") -> str:
    """Do one queued run. Safe to call twice: only the call that moves it to running does the work."""
    if not services.start_training_run(run_id, task_id):
        return "skipped"  # redelivered, cancelled, or already finished
    run = selectors.training_run(run_id)
    work_dir = Path(settings.RETRAIN_WORK_DIR) / f"run-{run_id}"
    stored: list[str] = []
    try:
        outcome = _retrain(run, work_dir, stored)
    except TrainingCancelled:
        _remove(stored)
        services.mark_training_run_cancelled(run_id, reason="cancelled by an admin")
        return "cancelled"
    except Exception:
        logger.exception("retraining run %s failed", run_id)
        _remove(stored)
        services.fail_training_run(run_id, traceback.format_exc())
        return "failed"
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return outcome


def _retrain(run: TrainingRun, work_dir: Path, stored: list[str]) -> str:
    progress = RunProgress(run.pk)
    progress.say("gathering images")
    data = gather_retraining_data(work_dir / "uploads")
    config = retraining_config()
    total_epochs = sum(stage[2] for stage in training_stages(config))
    progress.total = total_epochs + 2
    out_dir = work_dir / "model"
    summary = train_from_items(
        data.train,
        data.validation,
        data.class_names,
        config,
        out_dir,
        log=logger.info,
        callbacks=[progress.keras_callback()],
        shuffle_labels=bool(run.parameters.get("shuffle_labels")),
    )
    progress.step(total_epochs + 1, "scoring candidate and active model on the evaluation set")
    evaluation_set = evaluation_set_for(data.evaluation)
    active = classifier_selectors.active_model_version()
    candidate_scores = score(Predictor.from_directory(out_dir), data.evaluation)
    active_scores = score(Predictor.for_version(active), data.evaluation) if active else None
    policy = PromotionPolicy(settings.PROMOTION_ACCURACY_FLOOR, settings.PROMOTION_RECALL_TOLERANCE)
    decision = decide_promotion(candidate_scores, active_scores, policy)

    snapshot = json.dumps(
        {
            "train": [_snapshot_entry(item) for item in data.train],
            "validation": [_snapshot_entry(i) for i in data.validation],
        }
    )
    version = classifier_services.register_model_version(
        out_dir,
        created_by=run.created_by,
        metrics={"training": summary["history"], "train_seconds": summary["train_seconds"]},
        parent=active,
        notes=f"retraining run {run.pk}",
    )
    stored += [version.model_file.name]
    version.data_snapshot.save("data.json", ContentFile(snapshot.encode()), save=False)
    stored.append(version.data_snapshot.name)
    version.evaluation_set = evaluation_set
    version.evaluation = {
        "candidate": candidate_scores,
        "active": active_scores,
        "active_version": active and active.number,
    }
    version.promotion_note = decision.summary
    version.save(update_fields=["data_snapshot", "evaluation_set", "evaluation", "promotion_note"])
    if decision.promote:
        classifier_services.activate_model_version(
            version, ModelVersionChange.Action.AUTO_PROMOTE, actor="retraining", reason=decision.summary
        )
    metrics = {
        "model_version": version.number,
        "promoted": decision.promote,
        "reasons": decision.reasons,
        "candidate_accuracy": candidate_scores["accuracy"],
        "active_accuracy": active_scores["accuracy"] if active_scores else None,
        "candidate_by_source": candidate_scores["per_folder"],
        "active_by_source": active_scores["per_folder"] if active_scores else None,
        "training_photos": len(data.train),
        "labelled_uploads": data.labelled_uploads,
        "evaluation_photos": len(data.evaluation),
        "evaluation_set": evaluation_set.number,
        "classes": data.class_names,
    }
    services.finish_training_run(run.pk, metrics=metrics, model_version=version)
    return "promoted" if decision.promote else "candidate"


def retraining_config() -> DefaultModelConfig:
    weights = settings.IMAGENET_WEIGHTS
    return DefaultModelConfig(
        data_dir=settings.RETRAIN_BASE_DATA,
        weights=None if weights in ("", "none", "None") else weights,
        reject_label=settings.REJECT_LABEL,
        image_size=settings.RETRAIN_IMAGE_SIZE,
        head_epochs=settings.RETRAIN_HEAD_EPOCHS,
        finetune_epochs=settings.RETRAIN_FINETUNE_EPOCHS,
        field_weight=settings.RETRAIN_FIELD_WEIGHT,
    )


def gather_retraining_data(upload_dir: Path) -> RetrainingData:
    """The base dataset and its negatives, plus every photo officers confirmed, corrected or
    rejected as not a potato leaf. Officer-labelled photos are split by a hash of their content:
    a fixed share goes to the evaluation set, never to training."""
    data = RetrainingData()
    base = _cap(list_class_images(settings.RETRAIN_BASE_DATA, source="lab"))
    negatives = [
        item
        for folder in settings.RETRAIN_NEGATIVES
        for item in _cap(list_negative_images(folder, settings.REJECT_LABEL))
    ]
    lab_train, lab_holdout = split_by_photo(base + negatives, LAB_HOLDOUT_FRACTION)
    uploads_train, uploads_evaluation = [], []
    for label in classifier_selectors.current_labels().iterator():
        item = _export_upload(label, upload_dir)
        if hash_fraction(item.sha256, "evaluation") < settings.RETRAIN_EVALUATION_FRACTION:
            uploads_evaluation.append(item)
        else:
            uploads_train.append(item)
    data.labelled_uploads = len(uploads_train) + len(uploads_evaluation)

    base_classes = sorted({item.label for item in base})
    upload_counts = Counter(item.image.label for item in uploads_train)
    new_classes = sorted(
        name
        for name, count in upload_counts.items()
        if name not in base_classes and name != settings.REJECT_LABEL and count >= settings.RETRAIN_MIN_CLASS_IMAGES
    )
    data.class_names = base_classes + new_classes + [settings.REJECT_LABEL]
    known = set(data.class_names)
    training_side = lab_train + [item.image for item in uploads_train if item.image.label in known]
    data.train, data.validation = split_by_photo(training_side, VALIDATION_FRACTION, salt="validation")
    data.evaluation = [
        {"source": "lab", "key": _relative(item.path), "label": item.label, "path": str(item.path)}
        for item in lab_holdout
    ] + [
        {
            "source": "field",
            "key": item.key,
            "label": item.image.label,
            "sha256": item.sha256,
            "path": str(item.image.path),
        }
        for item in uploads_evaluation
        if item.image.label in known
    ]
    return data


@dataclass
class ExportedUpload:
    image: LabelledImage
    key: str
    sha256: str


def _export_upload(label, upload_dir: Path) -> ExportedUpload:
    """Copy a labelled submission's photo out of media storage into the run's folder."""
    submission = label.submission
    with default_storage.open(submission.image.name, "rb") as source:
        content = source.read()
    target = upload_dir / label.label / f"{submission.pk}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return ExportedUpload(
        LabelledImage(target, label.label, source="field"),
        f"submission:{submission.pk}",
        hashlib.sha256(content).hexdigest(),
    )


def evaluation_set_for(items: list[dict]) -> EvaluationSet:
    """The versioned evaluation set with exactly these photos (a new version when they change)."""
    entries = sorted(({k: v for k, v in item.items() if k != "path"} for item in items), key=lambda e: e["key"])
    fingerprint = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    existing = EvaluationSet.objects.filter(fingerprint=fingerprint).first()
    if existing:
        return existing
    number = (EvaluationSet.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return EvaluationSet.objects.create(number=number, fingerprint=fingerprint, items=entries)


def score(predictor: Predictor, items: list[dict]) -> dict:
    """Accuracy and per-class recall on the evaluation photos, with per-source (lab/field) recall."""
    return evaluate_items(predictor, [(item["path"], item["label"], item["source"]) for item in items])


def _snapshot_entry(item: LabelledImage) -> dict:
    return {
        "key": _relative(item.path),
        "label": item.label,
        "sha256": hashlib.sha256(item.path.read_bytes()).hexdigest(),
    }


def _relative(path: Path) -> str:
    """Data photos by their path under DATA_ROOT; uploads by their submission id."""
    path = Path(path)
    try:
        return str(path.relative_to(settings.DATA_ROOT))
    except ValueError:
        return f"submission:{path.stem}"


def _cap(items: list[LabelledImage]) -> list[LabelledImage]:
    cap = settings.RETRAIN_MAX_PER_CLASS
    if not cap:
        return items
    counts: Counter = Counter()
    kept = []
    for item in items:
        if counts[item.label] < cap:
            kept.append(item)
            counts[item.label] += 1
    return kept


def _remove(names: list[str]) -> None:
    """Remove artifacts a failed run stored; the active model is untouched."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not remove %s", name)


class RunProgress:
    """Epochs, metrics and an ETA into the run's row; a cancel request stops training."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.total = 1
        self.done = 0

    def say(self, message: str) -> None:
        services.record_training_progress(self.run_id, self.done, self.total, message)

    def step(self, done: int, message: str, eta: float | None = None) -> None:
        self.done = done
        services.record_training_progress(self.run_id, done, self.total, message, eta)

    def keras_callback(self):
        import time

        import keras

        progress = self

        class Reporter(keras.callbacks.Callback):
            cancelled = False

            def on_train_begin(self, logs=None):
                self.started = time.monotonic()
                self.epochs_at_start = progress.done

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                progress.done += 1
                per_epoch = (time.monotonic() - self.started) / max(progress.done - self.epochs_at_start, 1)
                eta = per_epoch * max(progress.total - 2 - progress.done, 0)
                message = (
                    f"epoch {progress.done}/{progress.total - 2}: accuracy {logs.get('accuracy', 0):.3f}, "
                    f"validation accuracy {logs.get('val_accuracy', 0):.3f}, loss {logs.get('loss', 0):.3f}"
                )
                services.record_training_progress(progress.run_id, progress.done, progress.total, message, eta)
                if selectors.training_run_cancel_requested(progress.run_id):
                    Reporter.cancelled = True
                    self.cancelled = True
                    self.model.stop_training = True

        return Reporter()


def fail_stale_runs() -> int:
    """Runs whose worker stopped reporting (killed, machine lost): failed, their folder removed."""
    failed = 0
    for run in selectors.stale_training_runs(settings.RETRAIN_STALE_SECONDS):
        if services.fail_training_run(run.pk, "the training worker stopped reporting (killed or lost)"):
            shutil.rmtree(Path(settings.RETRAIN_WORK_DIR) / f"run-{run.pk}", ignore_errors=True)
            failed += 1
    return failed
