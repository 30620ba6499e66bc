"""Reproducing the paper's study: plan, data, cached activations, every configuration's folds.

:func:`run_study` is resumable: folds already stored under ``out_dir/results`` are skipped, and
the photos are decoded and the activations cached only when some fold is left to train. The report
is built from the stored files by :mod:`training.study.report`, separately.
"""

from __future__ import annotations

import gc
import os
import platform
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training.study.costs import (
    features_seconds,
    fold_counts,
    fold_seconds,
    plan_estimate,
    setup_seconds,
    typical_epochs,
)
from training.study.data import StudyPhotos, list_study_photos
from training.study.experiments import (
    AUGMENT_FIRST,
    SPLIT_FIRST,
    StudySettings,
    TrialConfig,
    build_plan,
    settings_digest,
    unique_configs,
)
from training.study.progress import StudyProgress
from training.study.results import StudyFolder
from training.study.splits import fold_views


class StudyMismatch(Exception):
    """The output folder holds a study made with other settings or other data."""


@dataclass
class StudyOutcome:
    out_dir: Path
    folds_trained: int
    folds_skipped: int
    seconds: float


def environment() -> dict:
    """Versions and hardware, recorded with every run."""
    import keras
    import sklearn
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as stream:
            names = [line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores,
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "hostname_hash": settings_digest({"host": platform.node()})[:8],
    }


def describe_photos(photos: StudyPhotos, data_dir: Path, field_dir: Path | None) -> dict:
    def counts(items) -> dict[str, int]:
        result: dict[str, int] = {}
        for item in items:
            result[item.label] = result.get(item.label, 0) + 1
        return dict(sorted(result.items()))

    return {
        "data_dir": Path(data_dir).name,
        "field_dir": Path(field_dir).name if field_dir else None,
        "class_names": photos.class_names,
        "dev": counts(photos.dev),
        "test": counts(photos.test),
        "field": counts(photos.field),
        "field_skipped_classes": photos.field_skipped,
    }


def split_record(photos: StudyPhotos, settings: StudySettings, data_dir: Path, field_dir: Path | None) -> dict:
    """Every photo's side and every fold's split, for ``splits.json`` (and the tests)."""

    def rows(items, root):
        return [
            {"photo_id": item.photo_id, "label": item.label, "path": os.path.relpath(item.path, root)} for item in items
        ]

    labels, photo_ids = photos.dev_labels, photos.dev_photo_ids
    folds = {}
    for protocol in (SPLIT_FIRST, AUGMENT_FIRST):
        splits = fold_views(protocol, labels, photo_ids, settings.augment_factor, settings.folds, settings.seed)
        folds[protocol] = [{"train": train.tolist(), "validation": val.tolist()} for train, val in splits]
    return {
        "dev": rows(photos.dev, data_dir),
        "test": rows(photos.test, data_dir),
        "field": rows(photos.field, field_dir) if field_dir else [],
        "augment_factor": settings.augment_factor,
        "folds": folds,
    }


def prepare_study(
    settings: StudySettings, data_dir: Path, field_dir: Path | None, out_dir: Path
) -> tuple[StudyFolder, StudyPhotos, list]:
    """Write (or check) ``study.json`` and ``splits.json``; return the folder, photos and plan."""
    folder = StudyFolder(out_dir)
    photos = list_study_photos(settings, Path(data_dir), field_dir)
    plan = build_plan(settings)
    data = describe_photos(photos, data_dir, field_dir)
    signature = settings.signature()
    study = {
        "settings": signature,
        "settings_digest": settings_digest({"settings": signature, "data": data}),
        "data": data,
        "plan": [experiment.to_dict() for experiment in plan],
        "configs": {config.key: config.to_dict() for config in unique_configs(plan)},
        "estimate": plan_estimate(plan, settings, len(photos.dev), len(photos.test), len(photos.field)),
    }
    if (folder.root / "study.json").exists():
        previous = folder.study()
        if previous.get("settings_digest") != study["settings_digest"]:
            raise StudyMismatch(
                f"{folder.root} holds a study with other settings or data; use another --out "
                "(or delete that folder) to start afresh"
            )
    folder.write_study(study)
    if not (folder.root / "splits.json").exists():
        folder.write_splits(split_record(photos, settings, data_dir, field_dir))
    elif [row["photo_id"] for row in folder.splits()["dev"]] != photos.dev_photo_ids:
        raise StudyMismatch(f"{folder.root}/splits.json lists other development photos; use another --out")
    return folder, photos, plan


def stored_fold_views(folder: StudyFolder) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Every fold's (training views, validation views) as stored in ``splits.json``.

    Training reads the stored splits, not freshly computed ones, so a resumed run trains its
    remaining folds on exactly the splits of the folds already stored.
    """
    folds = folder.splits()["folds"]
    return {
        protocol: [
            (
                np.array(fold["train"], dtype=np.int64).reshape(-1, 2),
                np.array(fold["validation"], dtype=np.int64).reshape(-1, 2),
            )
            for fold in splits
        ]
        for protocol, splits in folds.items()
    }


def run_study(
    settings: StudySettings,
    data_dir: Path,
    field_dir: Path | None,
    out_dir: Path,
    progress: StudyProgress | None = None,
    log: Callable[[str], None] = print,
) -> StudyOutcome:
    """Train every fold of every configuration that has no stored result yet."""
    from training.study.crossval import Cancelled

    started = time.monotonic()
    progress = progress or StudyProgress(bars=False)
    folder, photos, plan = prepare_study(settings, data_dir, field_dir, out_dir)
    configs = unique_configs(plan)
    pending = {
        config.key: [fold for fold in range(settings.folds) if not folder.has_fold(config.key, fold)]
        for config in configs
    }
    folds_total = len(configs) * settings.folds
    folds_left = sum(len(folds) for folds in pending.values())
    run_entry = {
        "id": uuid.uuid4().hex[:12],
        "started_at": _now(),
        "status": "running",
        "folds_skipped": folds_total - folds_left,
        "folds_trained": 0,
        "phases": {},
        "environment": environment(),
    }
    folder.save_run(run_entry)
    log(
        f"{len(configs)} configurations x {settings.folds} folds: "
        f"{folds_left} folds to train, {folds_total - folds_left} already stored"
    )
    status = "done"
    # Cached-activation configurations first: they are cheap, so most of the report exists early
    # and an interrupted run loses only whole-network folds (sorted() is stable: plan order stays).
    to_train = sorted((c for c in configs if pending[c.key]), key=lambda c: c.trains_whole_network)
    try:
        train_pending(settings, folder, photos, to_train, pending, progress, run_entry)
    except Cancelled:
        status = "cancelled"
        raise
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException:
        status = "failed"
        raise
    finally:
        progress.close()
        run_entry.update(status=status, finished_at=_now(), seconds=round(time.monotonic() - started, 2))
        folder.save_run(run_entry)
    return StudyOutcome(folder.root, run_entry["folds_trained"], run_entry["folds_skipped"], run_entry["seconds"])


def train_pending(
    settings: StudySettings,
    folder: StudyFolder,
    photos: StudyPhotos,
    to_train: list[TrialConfig],
    pending: dict[str, list[int]],
    progress: StudyProgress,
    run_entry: dict,
) -> None:
    """Decode, augment and cache once, then train each pending fold and store it as it finishes."""
    from training.study.crossval import ConfigTrainer
    from training.study.data import load_study_data
    from training.study.features import compute_activations, images_to_extract

    sizes = (len(photos.dev), len(photos.test), len(photos.field))
    weights = {
        c.key: fold_seconds(c, fold_counts(c, settings, *sizes), settings.image_size, typical_epochs(c))
        for c in to_train
    }
    needs_cache = sorted({config.layers for config in to_train if not config.trains_whole_network})
    feature_weight = features_seconds(settings, *sizes) if needs_cache else 0.0
    total = feature_weight + sum(weights[c.key] * len(pending[c.key]) + setup_seconds(c) for c in to_train)
    folds_left = sum(len(pending[c.key]) for c in to_train)
    progress.start(total, run_entry["folds_skipped"] + folds_left, run_entry["folds_skipped"])
    if not to_train:
        return

    progress.phase("decoding photos")
    data = load_study_data(settings, photos, log=lambda message: None)
    run_entry["phases"].update({key: round(value, 2) for key, value in data.seconds.items()})
    activations = {}
    if needs_cache:
        progress.phase("caching frozen activations")
        n_images = images_to_extract(data)
        activations, seconds = compute_activations(
            data, needs_cache, settings.weights, progress=lambda n: progress.work_done(feature_weight * n / n_images)
        )
        run_entry["phases"].update(cache_activations=round(seconds, 2), cache_images=n_images)
    folder.save_run(run_entry)

    views = stored_fold_views(folder)
    for config in to_train:
        trainer = ConfigTrainer(config, settings, data, activations.get(config.layers))
        progress.work_done(setup_seconds(config))
        for fold in pending[config.key]:
            train_views, val_views = views[config.protocol][fold]
            steps = int(np.ceil(len(train_views) / config.batch_size))
            record = trainer.run_fold(
                fold, train_views, val_views, progress.fold(config, fold, weights[config.key], steps)
            )
            folder.save_fold(config.key, fold, record)
            run_entry["folds_trained"] += 1
            progress.fold_done()
        del trainer
        gc.collect()
        _clear_session()


def plan_only(settings: StudySettings, data_dir: Path, field_dir: Path | None) -> dict:
    """The plan and its cost estimate, without writing anything."""
    photos = list_study_photos(settings, Path(data_dir), field_dir)
    plan = build_plan(settings)
    return {
        "plan": [experiment.to_dict() for experiment in plan],
        "estimate": plan_estimate(plan, settings, len(photos.dev), len(photos.test), len(photos.field)),
        "photos": {"dev": len(photos.dev), "test": len(photos.test), "field": len(photos.field)},
    }


def _clear_session() -> None:
    import keras

    keras.backend.clear_session()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
