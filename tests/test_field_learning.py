"""The learning curve (issue 24, item 7): how many labelled field photos per class the recipe still needs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from training.datasets import LabelledImage
from training.field import learning
from training.field.data import FIELD, PoolImage
from training.field.protocol import learning_curve_arm, share_of_each_class


def points(label: str, a: float, b: float, noise: float = 0.0, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for fraction, photos in ((0.25, 10), (0.5, 20), (0.75, 30), (1.0, 40)):
        for fold in range(5):
            recall = a + b * math.log(photos) + rng.normal(0, noise)
            rows.append({"fraction": fraction, "fold": fold, "label": label, "photos": photos, "recall": recall})
    return rows


def test_an_exact_curve_is_extrapolated_to_the_photos_that_reach_85_percent():
    rows = points("early_blight", a=0.1, b=0.1)
    entry = learning.extrapolate(rows, "early_blight", pool=55)
    assert entry["a"] == 0.1 and entry["b"] == 0.1
    assert entry["needed"] == 1800  # 0.1 + 0.1 ln(n) = 0.85 at n = e^7.5 = 1,808, to two figures
    assert entry["low"] == entry["high"] == entry["needed"] and entry["more"] == 1800  # 1,808 - 55, to two figures
    assert entry["by_fraction"]["0.25"]["photos"] == 10.0


def test_a_flat_or_falling_curve_never_gets_there_and_noise_widens_the_interval():
    flat = learning.extrapolate(points("healthy", a=0.9, b=-0.01), "healthy", pool=40)
    assert flat["needed"] is None and flat["more"] is None
    noisy = learning.extrapolate(points("late_blight", a=0.3, b=0.12, noise=0.05), "late_blight", pool=100)
    assert noisy["low"] < noisy["needed"] < (noisy["high"] or math.inf)


def test_a_smaller_share_of_the_training_photos_is_part_of_a_larger_one():
    images = [
        PoolImage(LabelledImage(Path(f"/x/{label}_{i}.jpg"), label, source="field-potato"), FIELD, f"g{i % 4}")
        for label, count in (("late_blight", 20), ("early_blight", 9), ("healthy", 1))
        for i in range(count)
    ]
    positions = list(range(len(images)))
    quarter = set(share_of_each_class(images, positions, 0.25))
    half = set(share_of_each_class(images, positions, 0.5))
    assert quarter < half < set(share_of_each_class(images, positions, 1.0))
    counts = {label: sum(images[i].label == label for i in quarter) for label in ("late_blight", "early_blight")}
    assert counts == {"late_blight": 5, "early_blight": 2} and any(images[i].label == "healthy" for i in quarter)
    assert learning_curve_arm("fine_tuned_224", 0.25) == "fine_tuned_224-field25"
