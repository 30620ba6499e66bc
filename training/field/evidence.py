"""What each model would show farmers on field photos: the field half of a promotion decision.

``classifier.registry.promotion.decide_promotion`` judges a retrained candidate by what farmers
would be shown, each model under its own decision rule. Its field figures come from here:

- the candidate's from the grouped cross-validation its run already does to fit its rule, each
  fold judged by the rule fitted on the other folds (no photo judged by a threshold chosen on it);
- the active model's from running it, with its own rule, on the field photos of the same pool it
  did not train on (a version without a data snapshot, such as the shipped one, counts as trained
  on every base photo, so only officers' uploads are new to it); both are then compared on the
  photos they have in common;
- where those are too few, the figures the active model was registered with (``metrics["field"]``:
  its own cross-validation, as the candidate's are).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.registry.model_files import path_sha256
from training.field.data import PoolImage
from training.field.protocol import photo_entry
from training.field.report import (
    POTATO_CLASSES,
    answer_metrics,
    cross_fitted_rules,
    fold_answers,
    fold_arrays,
    load_results,
)

#: The field figures promotion reads, as ``training.field.report`` names them.
FIELD_FIGURES = (
    "field_potato_photos",
    "confidently_wrong",
    "answered_correctly",
    "potato_rejected",
    "other_crops_given_a_disease",
)


@dataclass
class FieldAnswers:
    """One model's answers on field photos, per photo (``training.field.report.fold_answers``)."""

    classes: list[str]
    answers: dict[str, np.ndarray]

    @property
    def keys(self) -> set[str]:
        return set(self.answers["keys"][self.answers["field"]].tolist())

    def figures(self, keys: Collection[str] | None = None, names: Sequence[str] = FIELD_FIGURES) -> dict:
        """The promotion figures (or ``names``) on every field photo, or on ``keys`` only."""
        keep = self.answers["field"].copy()
        if keys is not None:
            keep &= np.isin(self.answers["keys"], list(keys))
        subset = {name: values[keep] for name, values in self.answers.items()}
        metrics = answer_metrics(subset, self.classes)
        return {name: metrics.get(name) for name in names}


#: What the before/after comparison of a run with collected photos shows: the promotion figures, and each
#: potato class's top-1 recall (a class new to the model shows there first).
COMPARISON_FIGURES = FIELD_FIGURES + tuple(f"recall_{name}" for name in POTATO_CLASSES)
#: The photos every model starts from (the shared data folders), beside the kinds a run adds.
SHARED = "shared"


def collection_comparison(folder: Path, arm: str, without: str, kinds: dict[str, Collection[str]]) -> dict | None:
    """The field figures of ``arm`` (trained with some photos) and of ``without`` (the same recipe on the same
    grouped folds, trained without them), each fold judged by the rule cross-fitted on its own arm's other
    folds: on every field photo, then on each kind of photo apart (``kinds``: name -> keys, the rest
    ``shared``), never mixed, with how many were judged."""
    _, results = load_results(folder)
    if arm not in results or without not in results:
        return None
    after, before = cross_validated_answers(folder, arm), cross_validated_answers(folder, without)
    judged = after.keys & before.keys
    subsets = [("all", judged), (SHARED, judged.difference(*kinds.values()))]
    subsets += [(name, judged & set(keys)) for name, keys in kinds.items()]
    return {
        "arm": arm,
        "without": without,
        "subsets": [
            {
                "photos": name,
                "judged": len(keys),
                "before": before.figures(keys, COMPARISON_FIGURES),
                "after": after.figures(keys, COMPARISON_FIGURES),
            }
            for name, keys in subsets
            if keys
        ],
    }


def cross_validated_answers(folder: Path, arm: str) -> FieldAnswers | None:
    """The candidate's cross-fitted answers from its run's cross-validation (first repeat)."""
    photos, results = load_results(folder)
    if arm not in results:
        return None
    repeat = results[arm][min(results[arm])]
    folds = [fold_arrays(result, photos) for result in repeat]
    return FieldAnswers(folds[0]["classes"], fold_answers(folds, cross_fitted_rules(folds)))


def model_answers(predictor, images: list[PoolImage]) -> FieldAnswers:
    """A registered model's answers on ``images``, under its own rule, as the worker would give them."""
    classes, reject_label = predictor.labels, predictor.manifest.reject_label
    # One row per photo: as sent (a rule reading test-time views returns one row per view, the first as sent).
    outputs = [np.atleast_2d(predictor.probabilities(str(image.path)))[0] for image in images]
    probabilities = np.array(outputs, dtype=np.float64)
    result = {
        "classes": classes,
        "reject_label": reject_label,
        "keys": [image.key for image in images],
        "probabilities": probabilities.reshape(len(images), len(classes)),
    }
    fold = fold_arrays(result, {image.key: photo_entry(image) for image in images})
    return FieldAnswers(classes, fold_answers([fold], [predictor.rule]))


def unseen_field_photos(version, field: list[PoolImage], base_keys: Collection[str]) -> list[PoolImage]:
    """The field photos ``version`` did not train on: by its data snapshot's sha256 when it has one,
    else (the shipped model) every photo but the base ones."""
    if version.data_snapshot:
        with version.data_snapshot.open("rb") as snapshot:
            trained = {entry["sha256"] for entry in json.load(snapshot)["train"]}
        return [image for image in field if path_sha256(image.path) not in trained]
    return [image for image in field if image.key not in base_keys]


def registered_field_figures(version) -> dict | None:
    """The field figures a version was registered with (its own cross-validation), if any."""
    figures = (version.metrics or {}).get("field")
    return {name: figures.get(name) for name in FIELD_FIGURES} if figures else None


def figures_from_report(report: dict, arm: str) -> dict | None:
    """An arm's cross-fitted field figures in the field report (mean over repeats), for ``metrics.json``."""
    metrics = report.get("arms", {}).get(arm, {}).get("metrics")
    if not metrics:
        return None
    return {name: metrics[name]["mean"] if name in metrics else None for name in FIELD_FIGURES}
