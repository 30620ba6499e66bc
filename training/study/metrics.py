"""Numbers derived from stored fold records (per-image predictions, per-epoch histories); numpy only.

The report uses nothing else, so its numbers can be recomputed from ``results/*.json`` at any time.
Conventions: accuracies are fractions here (the report shows percent); a fold's *train* accuracy
and loss are the history's values at the epoch whose weights were kept (the lowest validation
loss, as ``EarlyStopping(restore_best_weights=True)`` keeps), measured with dropout on during the
epoch, as Keras reports them; *validation* numbers are computed from the stored probabilities.
Spread is the sample standard deviation over folds (ddof=1; 0 for a single fold).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPSILON = 1e-7


def mean_std(values: Sequence[float]) -> dict:
    array = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=np.float64)
    if not len(array):
        return {"mean": None, "std": None, "n": 0, "values": []}
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return {"mean": float(array.mean()), "std": std, "n": int(len(array)), "values": [float(v) for v in array]}


def scored(prediction_set: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, predicted labels, probabilities) of one stored prediction set."""
    labels = np.asarray(prediction_set["labels"], dtype=np.int64)
    probabilities = np.asarray(prediction_set["probabilities"], dtype=np.float64).reshape(len(labels), -1)
    predicted = probabilities.argmax(axis=1) if len(labels) else np.zeros(0, dtype=np.int64)
    return labels, predicted, probabilities


def accuracy(prediction_set: dict) -> float | None:
    labels, predicted, _ = scored(prediction_set)
    return float(np.mean(predicted == labels)) if len(labels) else None


def cross_entropy(prediction_set: dict) -> float | None:
    labels, _, probabilities = scored(prediction_set)
    if not len(labels):
        return None
    chosen = np.clip(probabilities[np.arange(len(labels)), labels], EPSILON, 1.0)
    return float(np.mean(-np.log(chosen)))


def best_epoch(history: dict) -> int:
    """Index of the epoch whose weights early stopping kept: the first lowest validation loss."""
    return int(np.argmin(history["val_loss"]))


def fold_metrics(record: dict) -> dict:
    history = record["history"]
    best = best_epoch(history)
    predictions = record["predictions"]
    return {
        "fold": record["fold"],
        "train_accuracy": float(history["accuracy"][best]),
        "train_loss": float(history["loss"][best]),
        "val_accuracy": accuracy(predictions["validation"]),
        "val_loss": cross_entropy(predictions["validation"]),
        "test_accuracy": accuracy(predictions["test"]),
        "test_loss": cross_entropy(predictions["test"]),
        "field_accuracy": accuracy(predictions["field"]),
        "best_epoch": best + 1,
        "epochs_run": len(history["val_loss"]),
        "stopped_early": bool(record.get("stopped_early")),
        "seconds": float(record["seconds"]["fit"] + record["seconds"]["predict"]),
        "setup_seconds": float(record["seconds"].get("setup", 0.0)),
        "images_per_second": float(record.get("train_images_per_second") or 0.0),
    }


def config_summary(records: list[dict]) -> dict:
    """Mean and spread over the stored folds of one configuration."""
    folds = [fold_metrics(record) for record in records]
    keys = [
        "train_accuracy",
        "train_loss",
        "val_accuracy",
        "val_loss",
        "test_accuracy",
        "test_loss",
        "field_accuracy",
        "best_epoch",
        "epochs_run",
        "images_per_second",
    ]
    summary = {key: mean_std([fold[key] for fold in folds]) for key in keys}
    summary["folds"] = len(folds)
    summary["per_fold"] = folds
    summary["seconds"] = float(sum(fold["seconds"] for fold in folds)) + (folds[0]["setup_seconds"] if folds else 0.0)
    summary["stopped_early"] = sum(fold["stopped_early"] for fold in folds)
    return summary


def accuracy_within(history: dict, epochs: int) -> tuple[float, float]:
    """(train, validation) accuracy a run capped at ``epochs`` would have kept.

    A run with fewer epochs is a prefix of a longer one (same seeds, same data order), and early
    stopping with restored weights keeps the epoch with the lowest validation loss so far, so
    its result can be read off the longer run's history.
    """
    val_loss = np.asarray(history["val_loss"][:epochs])
    best = int(np.argmin(val_loss))
    return float(history["accuracy"][best]), float(history["val_accuracy"][best])


def epochs_curve(records: list[dict], points: Sequence[int]) -> list[dict]:
    rows = []
    for point in points:
        pairs = [accuracy_within(record["history"], int(point)) for record in records]
        rows.append(
            {
                "epochs": int(point),
                "train_accuracy": mean_std([train for train, _ in pairs]),
                "val_accuracy": mean_std([val for _, val in pairs]),
                "ran_past": sum(len(record["history"]["val_loss"]) > point for record in records),
            }
        )
    return rows


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn's, over class indices ``0..n_classes-1`` (empty folds give zeros)."""
    from sklearn import metrics

    if not len(labels):
        return np.zeros((n_classes, n_classes), dtype=np.int64)
    return metrics.confusion_matrix(labels, predicted, labels=list(range(n_classes)))


def pooled(records: list[dict], which: str) -> tuple[np.ndarray, np.ndarray]:
    """All folds' (labels, predicted) for one prediction set, concatenated."""
    labels, predicted = [], []
    for record in records:
        fold_labels, fold_predicted, _ = scored(record["predictions"][which])
        labels.append(fold_labels)
        predicted.append(fold_predicted)
    if not labels:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(labels), np.concatenate(predicted)


def per_class_recall(matrix: np.ndarray, class_names: list[str]) -> dict[str, float | None]:
    support = matrix.sum(axis=1)
    return {name: (float(matrix[i, i] / support[i]) if support[i] else None) for i, name in enumerate(class_names)}


def binary_counts(matrix: np.ndarray, class_names: list[str], negative: str = "healthy") -> dict | None:
    """The multi-class matrix collapsed to diseased (positive) vs ``negative``, as the paper's 2x2."""
    if negative not in class_names:
        return None
    n = class_names.index(negative)
    positive = [i for i in range(len(class_names)) if i != n]
    return {
        "tp": int(matrix[np.ix_(positive, positive)].sum()),
        "tn": int(matrix[n, n]),
        "fp": int(matrix[n, positive].sum()),
        "fn": int(matrix[positive, n].sum()),
    }


def select_best(summaries: dict[str, dict]) -> str | None:
    """The configuration with the highest mean validation accuracy (ties: lower validation loss)."""
    complete = {key: s for key, s in summaries.items() if s["val_accuracy"]["mean"] is not None}
    if not complete:
        return None

    def rank(key: str) -> tuple[float, float]:
        summary = complete[key]
        loss = summary["val_loss"]["mean"]
        return (-summary["val_accuracy"]["mean"], loss if loss is not None else np.inf)

    return min(sorted(complete), key=rank)


def leakage(split_records: list[dict], augment_records: list[dict]) -> dict:
    """Our protocol against the paper's order, fold by fold, and where the paper's order leaks."""
    ours = mean_std([accuracy(r["predictions"]["validation"]) for r in split_records])
    theirs = mean_std([accuracy(r["predictions"]["validation"]) for r in augment_records])
    leaked_correct = leaked_total = clean_correct = clean_total = 0
    for record in augment_records:
        labels, predicted, _ = scored(record["predictions"]["validation"])
        leaked = np.asarray(record["predictions"]["validation"].get("leaked", [False] * len(labels)), dtype=bool)
        correct = predicted == labels
        leaked_correct += int(correct[leaked].sum())
        leaked_total += int(leaked.sum())
        clean_correct += int(correct[~leaked].sum())
        clean_total += int((~leaked).sum())
    ours_leaked = sum(int(np.sum(r["predictions"]["validation"].get("leaked", []))) for r in split_records)
    difference = None
    if ours["mean"] is not None and theirs["mean"] is not None:
        difference = theirs["mean"] - ours["mean"]
    return {
        "split_first": ours,
        "augment_first": theirs,
        "difference": difference,
        "augment_first_leaked_share": leaked_total / (leaked_total + clean_total)
        if leaked_total + clean_total
        else None,
        "augment_first_leaked_accuracy": leaked_correct / leaked_total if leaked_total else None,
        "augment_first_clean_accuracy": clean_correct / clean_total if clean_total else None,
        "augment_first_leaked_views": leaked_total,
        "augment_first_clean_views": clean_total,
        "split_first_leaked_views": ours_leaked,
    }
