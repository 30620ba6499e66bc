"""From class probabilities to the answer a farmer sees: a disease, "not a potato leaf", or "unsure"."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Diagnosis:
    label: str
    confidence: float
    top: list[dict]
    is_potato_leaf: bool
    is_unsure: bool
    margin: float

    def as_dict(self) -> dict:
        return asdict(self)


def diagnose(
    probabilities: np.ndarray,
    labels: list[str],
    reject_label: str | None,
    unsure_below: float,
    top_k: int = 3,
) -> Diagnosis:
    """Read one probability vector.

    The photo is "not a potato leaf" when the reject class wins; the answer is "unsure" when the
    winning probability is below ``unsure_below``. An unsure answer is never presented as a
    diagnosis: the farmer is told an officer will look at it.
    """
    order = np.argsort(probabilities)[::-1]
    best = int(order[0])
    confidence = float(probabilities[best])
    runner_up = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    top = [{"label": labels[i], "confidence": round(float(probabilities[i]), 4)} for i in order[:top_k]]
    label = labels[best]
    return Diagnosis(
        label=label,
        confidence=confidence,
        top=top,
        is_potato_leaf=label != reject_label,
        is_unsure=confidence < unsure_below,
        margin=confidence - runner_up,
    )
