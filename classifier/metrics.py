"""Classification metrics for evaluations; the confusion matrix is scikit-learn's."""

from __future__ import annotations

import numpy as np


def classification_summary(true: list[str], predicted: list[str], labels: list[str]) -> dict:
    """Accuracy, per-class precision/recall/support and the confusion matrix (rows true labels,
    columns predicted, both in ``labels`` order)."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(true, predicted, labels=labels) if len(true) else np.zeros((len(labels),) * 2, int)
    total = int(matrix.sum())
    per_class = {}
    for i, label in enumerate(labels):
        support = int(matrix[i].sum())
        predicted_count = int(matrix[:, i].sum())
        if support == 0 and predicted_count == 0:
            continue
        per_class[label] = {
            "precision": round(matrix[i, i] / predicted_count, 4) if predicted_count else 0.0,
            "recall": round(matrix[i, i] / support, 4) if support else 0.0,
            "support": support,
        }
    return {
        "accuracy": round(float(np.trace(matrix)) / total, 4) if total else 0.0,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "labels": labels,
        "count": total,
    }


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over
    equal-width confidence bins weighted by how many answers fall in each (Guo et al., 2017)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if not len(confidence):
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(error)
