"""How many labelled field photos the model still needs: a learning curve (issue 24, item 7).

The grouped cross-validation of the shipped recipe is repeated with 25, 50 and 75% of each class's training
field photos (``cross_validate_field --served-views --field-fraction``; the held-out folds stay whole, the same
as the full served run's first repeat, whose folds give the 100% point). Per potato class, the top-1 recall on its
held-out field photos is fitted against the number of field photos of that class the fold trained on, as
``recall = a + b * ln(photos)`` (least squares over every fold of every share), and extrapolated to the
photos at which it reaches 85%. Its uncertainty: the same fit on the folds resampled with replacement
(1,000 draws), 10th to 90th percentile. An extrapolation from a few dozen photos to hundreds is a rough
guide, and says nothing of photos unlike these (Kigezi's gardens are none of them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from training.field.protocol import learning_curve_arm, served_arm
from training.field.report import POTATO_CLASSES, fold_arrays

FRACTIONS = (0.25, 0.5, 0.75)
TARGET_RECALL = 0.85
DRAWS = 1000


def trained_photos(photos: dict[str, dict], split: dict[str, int], fold: int, label: str, fraction: float) -> int:
    """Field photos of ``label`` a fold trained on (``protocol.share_of_each_class``'s count)."""
    count = sum(1 for key, at in split.items() if at != fold and photos[key]["label"] == label)
    return count if fraction >= 1.0 else max(1, round(fraction * count))


def learning_points(folder: Path, photos: dict[str, dict], results: dict, arm: str) -> list[dict]:
    """(share, fold, class, photos trained on, recall) for every fold of every share that is stored."""
    split = json.loads((Path(folder) / "splits" / "r0.json").read_text())
    points = []
    for fraction in (*FRACTIONS, 1.0):
        stored = served_arm(arm) if fraction >= 1.0 else learning_curve_arm(arm, fraction)
        for result in results.get(stored, {}).get(0, []):
            fold = fold_arrays(result, photos)
            reject = fold["classes"].index(fold["reject_label"])
            potato_only = fold["probabilities"].copy()
            potato_only[:, reject] = -1
            top1 = potato_only.argmax(axis=1)
            for label in POTATO_CLASSES:
                if label not in fold["classes"]:
                    continue
                index = fold["classes"].index(label)
                mine = fold["field"] & (fold["truth"] == index)
                if mine.any():
                    points.append(
                        {
                            "fraction": fraction,
                            "fold": result["fold"],
                            "label": label,
                            "photos": trained_photos(photos, split, result["fold"], label, fraction),
                            "recall": round(float((top1[mine] == index).mean()), 4),
                        }
                    )
    return points


def _fit(points: list[dict]) -> tuple[float, float] | None:
    """(a, b) of recall = a + b ln(photos), or None where the points cannot give a slope."""
    x = np.log([point["photos"] for point in points])
    if len(points) < 3 or np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, [point["recall"] for point in points], 1)
    return float(a), float(b)


def photos_for(fit: tuple[float, float] | None, target: float = TARGET_RECALL) -> float:
    """Photos at which the fitted curve reaches ``target`` (infinite when it does not rise)."""
    if fit is None or fit[1] <= 0:
        return math.inf
    return math.exp((target - fit[0]) / fit[1])


def extrapolate(points: list[dict], label: str, pool: int, seed: int = 2026) -> dict:
    """The photos of ``label`` the curve asks for, with its bootstrap interval, beside the ``pool`` of them."""
    mine = [point for point in points if point["label"] == label]
    folds = sorted({point["fold"] for point in mine})
    fit = _fit(mine)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(DRAWS):
        chosen = rng.choice(folds, size=len(folds), replace=True)
        draws.append(photos_for(_fit([point for fold in chosen for point in mine if point["fold"] == fold])))
    needed = photos_for(fit)
    # A draw whose curve does not rise never gets there: it counts as the largest number, not as a gap.
    low, high = np.percentile(np.minimum(draws, 1e12), [10, 90])
    by_fraction = {}
    for point in mine:
        entry = by_fraction.setdefault(str(point["fraction"]), {"photos": [], "recall": []})
        entry["photos"].append(point["photos"])
        entry["recall"].append(point["recall"])
    return {
        "label": label,
        "pool": pool,
        "a": None if fit is None else round(fit[0], 4),
        "b": None if fit is None else round(fit[1], 4),
        "needed": _rounded(needed),
        "low": _rounded(low),
        "high": _rounded(high),
        "more": None if math.isinf(needed) else _rounded(max(0.0, needed - pool)),
        "by_fraction": {
            share: {"photos": round(float(np.mean(e["photos"])), 1), "recall": round(float(np.mean(e["recall"])), 4)}
            for share, e in sorted(by_fraction.items(), key=lambda item: float(item[0]))
        },
    }


def _rounded(value: float) -> int | None:
    """Photos, to two significant figures (the fit says no more); None for "the curve does not get there"."""
    if math.isinf(value) or math.isnan(value) or value > 1e6:
        return None
    digits = max(0, len(str(int(value))) - 2)
    return int(round(value, -digits))


def learning_curve(folder: Path, photos: dict[str, dict], results: dict, arm: str) -> dict | None:
    """The report's learning-curve section, or None until every share is stored (five folds each)."""
    if not all(len(results.get(learning_curve_arm(arm, fraction), {}).get(0, [])) >= 5 for fraction in FRACTIONS):
        return None
    points = learning_points(folder, photos, results, arm)
    pools = {}
    for photo in photos.values():
        if photo["domain"] == "field":
            pools[photo["label"]] = pools.get(photo["label"], 0) + 1
    labels = [label for label in POTATO_CLASSES if any(point["label"] == label for point in points)]
    return {
        "target_recall": TARGET_RECALL,
        "fractions": [*FRACTIONS, 1.0],
        "classes": {label: extrapolate(points, label, pools.get(label, 0)) for label in labels},
        "points": points,
    }


def for_metrics(report: dict) -> dict | None:
    """Per class, what the dashboard shows of the learning curve (``metrics.json``'s ``learning_curve``)."""
    curve = report.get("learning_curve")
    if not curve:
        return None
    fields = ("needed", "low", "high", "pool")
    return {label: {name: entry[name] for name in fields} for label, entry in curve["classes"].items()}
