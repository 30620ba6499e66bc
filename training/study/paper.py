"""What the paper claims: every number in ``../shared/docs/study.md``, in one place.

Turihohabwe, Ssembatya and Wasswa (2025), "Exploring strategies for optimizing MobileNetV2
performance in classification tasks through transfer learning and hyperparameter tuning with a
local dataset from Kigezi, Uganda". These are the only numbers written in the training code; every
measured number in the study report comes from stored predictions and histories.

Accuracies are (train %, test %) pairs as the paper gives them.
"""

from __future__ import annotations

from typing import Final

CITATION: Final = (
    "Turihohabwe, Ssembatya and Wasswa (Mbarara University of Science and Technology, 2025): "
    "MobileNetV2 transfer learning and hyperparameter tuning on Irish-potato leaves from Kigezi, Uganda"
)

PAPER_CLAIMS: Final[dict] = {
    "data": {
        "original_images": 2415,
        "augmented_images": 9660,
        "augmentation_factor": 4,
        "train_percent": 80,
        "test_percent": 20,
    },
    "model": {
        "image_size": 128,
        "dropout": 0.5,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": 1e-4,
        "epochs": (30, 50),
        "patience": 5,
    },
    # Experiment 1: which layers train. Keys are the study's ``layers`` values.
    "layers": {"head": (90, 85), "10": (92, 88), "20": (95, 91), "all": (98, 96)},
    "layers_chosen": "all",
    # Experiment 2.
    "learning_rate": {1e-1: (60, 55), 1e-2: (80, 75), 1e-3: (90, 88), 1e-4: (99, 98), 1e-5: (95, 92)},
    "learning_rate_chosen": 1e-4,
    # Experiment 3.
    "batch_size": {16: (97, 94), 32: (99, 98), 64: (95, 93), 128: (90, 87)},
    "batch_size_chosen": 32,
    # Experiment 4.
    "optimizer": {"sgd": (85, 80), "rmsprop": (92, 88), "adam": (99, 98)},
    "optimizer_chosen": "adam",
    # Experiment 5: epochs 10 to 100 with early stopping (patience 5); 10 to 30 epochs reach 99/98.
    "epochs": {"tried": (10, 100), "plateau": (10, 30), "accuracy": (99, 98), "patience": 5},
    # Experiment 6.
    "search": {"experiments": 50, "folds": 5},
    # Experiment 7.
    "final": {"train_accuracy": 99, "test_accuracy": 98, "train_loss": 0.02, "test_loss": (0.02, 0.04)},
    # The confusion matrix the paper prints for its validation set.
    "confusion": {"images": 480, "tp": 238, "tn": 95, "fp": 107, "fn": 40},
}


def paper_pair(experiment: str, value) -> tuple[float, float] | None:
    """The paper's (train %, test %) for one value of a one-factor experiment, if it gives one."""
    table = PAPER_CLAIMS.get(experiment)
    if not isinstance(table, dict):
        return None
    if experiment == "epochs":
        low, high = table["plateau"]
        return table["accuracy"] if low <= int(value) <= high else None
    for key, pair in table.items():
        if str(key) == str(value) or (isinstance(key, float) and _same_float(key, value)):
            return pair
    return None


def paper_confusion_accuracy() -> float:
    """Accuracy implied by the paper's own confusion matrix: (TP + TN) / images."""
    matrix = PAPER_CLAIMS["confusion"]
    return (matrix["tp"] + matrix["tn"]) / matrix["images"]


def _same_float(a: float, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-12 * max(abs(float(a)), 1.0)
    except (TypeError, ValueError):
        return False
