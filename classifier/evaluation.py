"""Scoring a model on labelled photos: the numbers behind ``evaluate_model`` and model cards."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from classifier.inference import Predictor
from classifier.metrics import classification_summary, expected_calibration_error

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def folder_items(data_dir: Path | str, labels: list[str], reject_label: str | None) -> list[tuple[Path, str, str]]:
    """(path, expected label, folder) for every photo in ``data_dir``'s class folders.

    A folder whose name is not one of the model's labels holds photos the model should reject
    as not a potato leaf.
    """
    items = []
    for folder in sorted(p for p in Path(data_dir).iterdir() if p.is_dir()):
        expected = folder.name if folder.name in labels else reject_label
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                items.append((path, expected, folder.name))
    return items


def evaluate_items(
    predictor: Predictor,
    items: Iterable[tuple[Path, str, str]],
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Run ``predictor`` on every item and summarise: accuracy, per folder and per label."""
    items = list(items)
    reject_label = predictor.manifest.reject_label
    true, predicted, folders, confidences = [], [], [], []
    unsure = confidently_wrong = 0
    for position, (path, expected, folder) in enumerate(items, start=1):
        diagnosis = predictor.predict(str(path))
        true.append(expected)
        predicted.append(diagnosis.label)
        folders.append(folder)
        confidences.append(diagnosis.confidence)
        unsure += diagnosis.is_unsure
        # The worst failure: a potato answer, shown as sure, that is wrong.
        confidently_wrong += diagnosis.is_potato_leaf and not diagnosis.is_unsure and diagnosis.label != expected
        if progress:
            progress(position)
    # A photo may carry a class this model does not know (one an admin added since): count it.
    labels = list(predictor.labels) + sorted(set(true) - set(predictor.labels))
    summary = classification_summary(true, predicted, labels)
    summary["per_folder"] = _per_folder(true, predicted, folders)
    for entry in summary["per_folder"].values():
        entry["precision"] = summary["per_class"].get(entry["expected"], {}).get("precision", 0.0)
    count = max(len(predicted), 1)
    summary["rejection_rate"] = round(sum(p == reject_label for p in predicted) / count, 4)
    summary["unsure_rate"] = round(unsure / count, 4)
    summary["confidently_wrong_rate"] = round(confidently_wrong / count, 4)
    correct = [t == p for t, p in zip(true, predicted, strict=True)]
    summary["expected_calibration_error"] = round(expected_calibration_error(confidences, correct), 4)
    return summary


def _per_folder(true: list[str], predicted: list[str], folders: list[str]) -> dict:
    """Recall per source folder (precision needs every folder's predictions, so it is per label)."""
    result: dict[str, dict] = {}
    for t, p, folder in zip(true, predicted, folders, strict=True):
        entry = result.setdefault(folder, {"expected": t, "correct": 0, "support": 0})
        entry["support"] += 1
        entry["correct"] += t == p
    for entry in result.values():
        entry["recall"] = round(entry["correct"] / entry["support"], 4)
    return result
