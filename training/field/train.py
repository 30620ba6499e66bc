"""Training the model the product serves with the field recipe, from folders or officers' labels.

``train_field_model`` trains the head once on every lab training photo and every field photo
(``training.field.protocol.train_final_head``), puts it on the backbone, and writes the served
files: ``model.tflite`` (float16), ``model.keras`` (no optimizer state, float16 weights, for Grad-CAM),
``labels.json`` with the decision rule fitted on the cross-validation, and ``training.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifier.classes import NOT_POTATO_LEAF
from classifier.decision import DecisionRule
from classifier.registry.artifacts import KERAS_FILENAME, MODEL_FILENAME, ModelManifest, write_keras_model
from training.datasets import LabelledImage
from training.field.data import Pools, collect_pools
from training.field.protocol import ARMS, CHOSEN, run_protocol, train_final_head
from training.field.recipe import Recipe

MIN_FIELD_PHOTOS_FOR_A_RULE = 50


@dataclass
class FieldTrainingConfig:
    """Where the photos are and how to train; every folder list may be empty."""

    lab_dir: Path
    lab_negatives: Sequence[Path] = ()
    field_dirs: Sequence[Path] = ()
    field_negatives: Sequence[Path] = ()
    reject_label: str = NOT_POTATO_LEAF
    weights: str | None = "imagenet"
    recipe: Recipe = field(default_factory=lambda: ARMS[CHOSEN])
    copies: int = 3
    max_per_class: int | None = None
    cache_dir: Path | None = None
    extra_field: Sequence[LabelledImage] = ()

    def pools(self) -> Pools:
        return collect_pools(
            self.lab_dir,
            self.lab_negatives,
            self.field_dirs,
            self.field_negatives,
            self.reject_label,
            extra_field=self.extra_field,
            max_per_class=self.max_per_class,
        )


def train_field_model(
    config: FieldTrainingConfig,
    out_dir: Path,
    rule: DecisionRule | None,
    pools: Pools | None = None,
    log: Callable[[str], None] = print,
    shuffle_labels: bool = False,
) -> dict:
    """Train, compose and export; returns the summary also written to ``training.json``."""
    import keras

    from training.export import export_tflite
    from training.field.recipe import compose_model

    started = time.monotonic()
    pools = pools or config.pools()
    head, class_names, fit = train_final_head(
        pools,
        config.recipe,
        config.reject_label,
        config.weights,
        config.copies,
        config.cache_dir,
        log=log,
        shuffle_labels=shuffle_labels,
    )
    model = compose_model(head, config.recipe.image_size, config.weights)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    export_tflite(model, out_dir / MODEL_FILENAME)
    write_keras_model(model, out_dir / KERAS_FILENAME)  # never compiled: no optimizer state, float16 weights
    ModelManifest(class_names, config.recipe.image_size, config.reject_label, rule.as_dict() if rule else None).write(
        out_dir
    )
    keras.backend.clear_session()
    summary = {
        "classes": class_names,
        "recipe": config.recipe.as_dict(),
        "decision_rule": rule.as_dict() if rule else None,
        "fit": fit,
        "training_photos": len(pools.lab_train) + len(pools.field),
        "lab_holdout_photos": len(pools.lab_holdout),
        "train_seconds": round(time.monotonic() - started, 1),
    }
    (out_dir / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def fit_decision_rule(
    config: FieldTrainingConfig, pools: Pools, folder: Path, folds: int = 5, log: Callable[[str], None] = print
) -> DecisionRule | None:
    """The rule for a model trained on ``pools``, fitted as the shipped one was: on out-of-fold
    field predictions of a grouped cross-validation of the same recipe (one repeat), with its case
    thresholds (``training.field.cases``).

    ``None`` (the old rule) when the field photos are too few to fit one honestly.
    """
    from training.field.report import case_report, load_results, shipped_rule

    if len(pools.field) < MIN_FIELD_PHOTOS_FOR_A_RULE or len({image.group for image in pools.field}) < folds:
        log(f"{len(pools.field)} field photos: too few to fit a decision rule; the old rule applies")
        return None
    arm = config.recipe.name
    run_protocol(
        pools,
        folder,
        config.reject_label,
        config.weights,
        arms=[arm],
        folds=folds,
        repeats=1,
        copies=config.copies,
        cache_dir=config.cache_dir,
        recipes={arm: config.recipe},
        log=log,
    )
    photos, results = load_results(folder)
    return DecisionRule.from_dict(case_report(results[arm], photos, shipped_rule(results[arm], photos))["rule"])


def ship_rule(out_dir: Path, rule: DecisionRule, fitted_on: str | None, today: str) -> dict:
    """Give the model in ``out_dir`` a refitted decision rule, its weights unchanged: ``labels.json`` and
    ``training.json`` (whose ``rule_refitted`` says when, and on which folds). Returns the updated summary."""
    out_dir = Path(out_dir)
    manifest = ModelManifest.read(out_dir)
    ModelManifest(manifest.labels, manifest.image_size, manifest.reject_label, rule.as_dict()).write(out_dir)
    summary = json.loads((out_dir / "training.json").read_text())
    summary["decision_rule"] = rule.as_dict()
    summary["rule_refitted"] = {"date": today, "fitted_on": fitted_on}
    (out_dir / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def rule_from_report(folder: Path) -> DecisionRule | None:
    """The decision rule the field report fitted (``docs/field/report.json``), if there is one."""
    path = Path(folder) / "report.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text()).get("shipped_rule")
    return DecisionRule.from_dict(data) if data else None
