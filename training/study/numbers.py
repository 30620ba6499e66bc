"""Every number the study report shows, derived from a study folder's stored files.

Built only from :mod:`training.study.results` (per-image probabilities, per-epoch histories,
run records), so it can be recomputed at any time without training, also from a partial
(interrupted) run. Measured numbers go through :mod:`training.study.metrics`; the paper's come
from :mod:`training.study.paper`. The markup lives in ``templates/reports/study/`` (:mod:`training.study.report`).
"""

from __future__ import annotations

import numpy as np

from training.study.experiments import SPLIT_FIRST
from training.study.metrics import (
    binary_counts,
    config_summary,
    confusion_matrix,
    epochs_curve,
    leakage,
    mean_std,
    per_class_recall,
    pooled,
    select_best,
)
from training.study.paper import paper_pair
from training.study.results import StudyFolder

ONE_FACTOR = ("layers", "learning_rate", "batch_size", "optimizer")
LAYER_LABELS = {"head": "head only", "10": "top 10", "20": "top 20", "all": "all layers"}


def value_label(experiment: str, value) -> str:
    if experiment == "layers":
        return LAYER_LABELS.get(str(value), str(value))
    if experiment == "learning_rate":
        return format(float(value), "g")
    return str(value)


def derive_numbers(folder: StudyFolder) -> dict:
    """Every number the report shows, from the stored study files."""
    study, runs, splits = folder.study(), folder.runs(), folder.splits()
    settings = study["settings"]
    class_names = study["data"]["class_names"]
    records = {key: folder.load_folds(key) for key in study["configs"]}
    summaries = {key: config_summary(folds) for key, folds in records.items()}
    numbers: dict = {
        "settings": settings,
        "data": study["data"],
        "class_names": class_names,
        "configs": {
            key: {"config": study["configs"][key], **_without_per_fold(summary)} for key, summary in summaries.items()
        },
        "experiments": {},
    }
    for experiment in study["plan"]:
        name = experiment["name"]
        if name in ONE_FACTOR:
            numbers["experiments"][name] = _one_factor(experiment, summaries, study["configs"])
        elif name == "epochs":
            key = experiment["configs"][0]
            rows = epochs_curve(records[key], experiment["values"]) if records[key] else []
            for row in rows:
                row["paper"] = paper_pair("epochs", row["epochs"])
            numbers["experiments"][name] = {
                "config_key": key,
                "cap": study["configs"][key]["epochs"],
                "rows": rows,
                "folds": len(records[key]),
                "whole_network": _whole_network_epochs(study, records),
            }
        elif name == "random_search":
            numbers["experiments"][name] = _search_rows(experiment, study, summaries)
        elif name == "leakage":
            ours, theirs = experiment["configs"]
            numbers["experiments"][name] = {
                "config_keys": [ours, theirs],
                **leakage(records[ours], records[theirs]),
            }
    candidates = {
        key: summary
        for key, summary in summaries.items()
        if study["configs"][key]["protocol"] == SPLIT_FIRST and summary["folds"] == settings["folds"]
    } or {key: s for key, s in summaries.items() if study["configs"][key]["protocol"] == SPLIT_FIRST}
    best = select_best(candidates)
    numbers["best_config"] = best
    numbers["complete_configs"] = sum(s["folds"] == settings["folds"] for s in summaries.values())
    numbers["final"] = _final(best, records.get(best, []), summaries.get(best), class_names) if best else None
    numbers["costs"] = _costs(study, runs, summaries)
    numbers["environment"] = runs[-1]["environment"] if runs else {}
    numbers["splits"] = {
        "dev_photos": len(splits["dev"]),
        "test_photos": len(splits["test"]),
        "field_photos": len(splits["field"]),
        "augment_factor": splits["augment_factor"],
        "augmented_dev_views": len(splits["dev"]) * splits["augment_factor"],
        "train_views_per_fold": [len(fold["train"]) for fold in splits["folds"][SPLIT_FIRST]],
        "validation_photos_per_fold": [len(fold["validation"]) for fold in splits["folds"][SPLIT_FIRST]],
    }
    numbers["trainings"] = len(numbers["configs"]) * settings["folds"]
    return numbers


def _without_per_fold(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "per_fold"}


def _one_factor(experiment: dict, summaries: dict, configs: dict) -> dict:
    rows = []
    for value, key in zip(experiment["values"], experiment["configs"], strict=True):
        summary = summaries[key]
        rows.append(
            {
                "value": value,
                "label": value_label(experiment["name"], value),
                "config_key": key,
                "layers_trained": configs[key]["layers"],
                "folds": summary["folds"],
                "train": summary["train_accuracy"],
                "val": summary["val_accuracy"],
                "val_loss": summary["val_loss"],
                "epochs_run": summary["epochs_run"],
                "paper": paper_pair(experiment["name"], value),
            }
        )
    return {"rows": rows}


def _whole_network_epochs(study: dict, records: dict) -> dict | None:
    """The same reading for experiment 1's whole-network arm, up to its own (lower) epoch cap."""
    layers = next((e for e in study["plan"] if e["name"] == "layers"), None)
    if not layers or "all" not in layers["values"]:
        return None
    key = layers["configs"][layers["values"].index("all")]
    cap = study["configs"][key]["epochs"]
    points = [p for p in study["settings"]["epoch_points"] if p <= cap] or list(range(1, cap + 1))
    if cap not in points:
        points.append(cap)
    return {"config_key": key, "cap": cap, "rows": epochs_curve(records[key], points) if records[key] else []}


def _search_rows(experiment: dict, study: dict, summaries: dict) -> dict:
    rows = []
    for label, key in zip(experiment["values"], experiment["configs"], strict=True):
        config = study["configs"][key]
        summary = summaries[key]
        rows.append(
            {
                "label": label,
                "config_key": key,
                "optimizer": config["optimizer"],
                "head_activation": config["head_activation"],
                "learning_rate": config["learning_rate"],
                "epochs": config["epochs"],
                "folds": summary["folds"],
                "train": summary["train_accuracy"],
                "val": summary["val_accuracy"],
                "epochs_run": summary["epochs_run"],
            }
        )
    done = [row for row in rows if row["val"]["mean"] is not None]
    best = max(done, key=lambda row: row["val"]["mean"])["label"] if done else None
    return {"rows": rows, "best_trial": best}


def _final(best: str, records: list[dict], summary: dict, class_names: list[str]) -> dict:
    n = len(class_names)
    val_labels, val_predicted = pooled(records, "validation")
    val_matrix = confusion_matrix(val_labels, val_predicted, n)
    test_labels, test_predicted = pooled(records, "test")
    test_matrix = confusion_matrix(test_labels, test_predicted, n)
    field_labels, field_predicted = pooled(records, "field")
    field_matrix = confusion_matrix(field_labels, field_predicted, n)
    field_recall_per_fold = []
    for record in records:
        labels, predicted = pooled([record], "field")
        field_recall_per_fold.append(per_class_recall(confusion_matrix(labels, predicted, n), class_names))
    field_classes = [name for i, name in enumerate(class_names) if field_matrix[i].sum()]
    return {
        "config_key": best,
        "summary": _without_per_fold(summary),
        "per_fold": summary["per_fold"],
        "histories": [record["history"] for record in records],
        "validation_confusion": val_matrix.tolist(),
        "validation_images": int(val_matrix.sum()),
        "validation_pooled_accuracy": float(np.trace(val_matrix) / val_matrix.sum()) if val_matrix.sum() else None,
        "validation_binary": binary_counts(val_matrix, class_names),
        "test_confusion": test_matrix.tolist(),
        "test_recall": per_class_recall(test_matrix, class_names),
        "field_confusion": field_matrix.tolist(),
        "field_recall": {
            name: mean_std([fold[name] for fold in field_recall_per_fold if fold[name] is not None])
            for name in field_classes
        },
        "field_predicted_share": {
            name: float(field_matrix[:, i].sum() / field_matrix.sum()) if field_matrix.sum() else None
            for i, name in enumerate(class_names)
        },
    }


def _costs(study: dict, runs: list[dict], summaries: dict) -> dict:
    seen: set[str] = set()
    per_experiment = []
    for experiment in study["plan"]:
        seconds, new, shared = 0.0, 0, []
        for key in experiment["configs"]:
            if key in seen:
                shared.append(key)
                continue
            seen.add(key)
            new += 1
            seconds += summaries[key]["seconds"]
        per_experiment.append(
            {
                "experiment": experiment["name"],
                "seconds": seconds,
                "new_configs": new,
                "shared_configs": len(shared),
                "whole_network": any(study["configs"][key]["layers"] == "all" for key in experiment["configs"]),
            }
        )
    phases: dict[str, float] = {}
    for run in runs:
        for phase, value in run.get("phases", {}).items():
            if phase != "cache_images":
                phases[phase] = phases.get(phase, 0.0) + float(value)
    throughput: dict[str, dict] = {}
    for key, summary in summaries.items():
        layers = study["configs"][key]["layers"]
        for fold in summary["per_fold"]:
            throughput.setdefault(layers, []).append(fold["images_per_second"])
    whole = [s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] == "all"]
    cached = [s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] != "all"]
    layer_keys = set(next(e["configs"] for e in study["plan"] if e["name"] == "layers"))
    sweep_keys = [key for key in study["configs"] if key not in layer_keys]
    complete_whole = [
        s["seconds"] for k, s in summaries.items() if study["configs"][k]["layers"] == "all" and s["folds"]
    ]
    whole_config_seconds = (
        float(np.mean(complete_whole)) * study["settings"]["folds"] / max(1, _mean_folds(summaries, study, "all"))
        if complete_whole
        else None
    )
    return {
        "sweep_configs": len(sweep_keys),
        "sweep_seconds": float(sum(summaries[key]["seconds"] for key in sweep_keys)),
        "whole_network_config_seconds": whole_config_seconds,
        "sweeps_on_whole_network_seconds": whole_config_seconds * len(sweep_keys)
        if whole_config_seconds is not None
        else None,
        "per_experiment": per_experiment,
        "phases": phases,
        "whole_network_seconds": float(sum(whole)),
        "cached_seconds": float(sum(cached)),
        "total_seconds": float(sum(run.get("seconds", 0.0) for run in runs)),
        "runs": [
            {
                key: run.get(key)
                for key in ("id", "started_at", "finished_at", "seconds", "status", "folds_trained", "folds_skipped")
            }  # fmt: skip
            for run in runs
        ],
        "train_images_per_second": {layers: mean_std(values) for layers, values in sorted(throughput.items())},
        "estimate": study.get("estimate"),
    }


def _mean_folds(summaries: dict, study: dict, layers: str) -> float:
    folds = [s["folds"] for k, s in summaries.items() if study["configs"][k]["layers"] == layers and s["folds"]]
    return float(np.mean(folds)) if folds else 0.0


def headline_metrics(numbers: dict) -> dict:
    """The few numbers a training-run row keeps (dashboard)."""
    final = numbers.get("final") or {}
    summary = final.get("summary") or {}
    leak = numbers["experiments"].get("leakage") or {}

    def mean(key):
        return (summary.get(key) or {}).get("mean")

    return {
        "best_config": numbers.get("best_config"),
        "val_accuracy": mean("val_accuracy"),
        "val_accuracy_std": (summary.get("val_accuracy") or {}).get("std"),
        "test_accuracy": mean("test_accuracy"),
        "field_accuracy": mean("field_accuracy"),
        "leakage": leak.get("difference"),
        "configs": len(numbers["configs"]),
        "complete_configs": numbers["complete_configs"],
        "total_seconds": numbers["costs"]["total_seconds"],
    }


def as_json(value):
    """The numbers as plain JSON values (numpy scalars become Python ones, keys strings)."""
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
