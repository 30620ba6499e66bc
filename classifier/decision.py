"""From class probabilities to the answer a farmer sees: a disease, "not a potato leaf", or "unsure".

A model ships with its :class:`DecisionRule`, fitted on cross-validated field photos
(``training.field.calibration``): a temperature that makes its probabilities honest, the probability
of "not a potato leaf" at which a photo is turned away, and the probability below which the
farmer is told "not sure, an extension officer will look at it". Models without one fall back
to the old rule: the reject class wins by argmax, unsure below ``CLASSIFIER_UNSURE_BELOW``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PROBABILITY_FLOOR = 1e-12  # log(0) guard; the TFLite softmax can round a class to exactly 0


@dataclass(frozen=True)
class DecisionRule:
    """How probabilities become an answer.

    ``temperature`` divides the log-probabilities before a softmax (temperature scaling);
    ``reject_at``: a photo whose calibrated "not a potato leaf" probability reaches it is turned
    away (``None``: when that class has the highest probability); ``unsure_below``: a potato answer
    with a lower calibrated probability is shown as "not sure".
    """

    temperature: float = 1.0
    reject_at: float | None = None
    unsure_below: float = 0.6

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def never_sure(self) -> bool:
        """``unsure_below`` 1.0: no potato answer is shown as sure, even where a low temperature rounds a
        probability up to 1.0."""
        return self.unsure_below >= 1.0

    @classmethod
    def from_dict(cls, data: dict | None, default_unsure_below: float = 0.6) -> DecisionRule:
        if not data:
            return cls(unsure_below=default_unsure_below)
        return cls(float(data.get("temperature", 1.0)), data.get("reject_at"), float(data["unsure_below"]))


@dataclass(frozen=True)
class Diagnosis:
    label: str
    confidence: float
    top: list[dict]
    is_potato_leaf: bool
    is_unsure: bool
    margin: float


def calibrate(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling on log-probabilities; rows of ``probabilities`` stay rows."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Decisions:
    """The rule applied to many photos at once (evaluation and reports)."""

    answer: np.ndarray  # class index answered (the reject index when turned away)
    confidence: np.ndarray  # calibrated probability of that answer
    rejected: np.ndarray  # bool
    unsure: np.ndarray  # bool: a potato answer shown as "not sure"
    calibrated: np.ndarray


def decide(probabilities: np.ndarray, labels: list[str], reject_label: str | None, rule: DecisionRule) -> Decisions:
    """Apply ``rule`` to a (n, classes) array of model probabilities."""
    calibrated = calibrate(np.atleast_2d(probabilities), rule.temperature)
    reject = labels.index(reject_label) if reject_label in labels else None
    potato = calibrated.copy()
    if reject is not None:
        potato[:, reject] = -1.0
        if rule.reject_at is None:
            rejected = calibrated.argmax(axis=1) == reject
        else:
            rejected = calibrated[:, reject] >= rule.reject_at
    else:
        rejected = np.zeros(len(calibrated), dtype=bool)
    answer = np.where(rejected, reject if reject is not None else 0, potato.argmax(axis=1))
    confidence = calibrated[np.arange(len(calibrated)), answer]
    # A rejection decided by a fitted threshold is an answer; under the old rule it can be unsure too.
    below = (confidence < rule.unsure_below) | rule.never_sure
    unsure = below & ~(rejected & (rule.reject_at is not None))
    return Decisions(answer, confidence, rejected, unsure, calibrated)


def diagnose(
    probabilities: np.ndarray,
    labels: list[str],
    reject_label: str | None,
    rule: DecisionRule,
    top_k: int = 3,
) -> Diagnosis:
    """Read one probability vector. An unsure answer is never presented as a diagnosis: the
    farmer is told an officer will look at it."""
    decisions = decide(probabilities, labels, reject_label, rule)
    calibrated = decisions.calibrated[0]
    order = np.argsort(calibrated)[::-1]
    best = int(decisions.answer[0])
    confidence = float(decisions.confidence[0])
    runner_up = max((float(calibrated[i]) for i in order if i != best), default=0.0)
    return Diagnosis(
        label=labels[best],
        confidence=confidence,
        top=[{"label": labels[i], "confidence": round(float(calibrated[i]), 4)} for i in order[:top_k]],
        is_potato_leaf=not bool(decisions.rejected[0]),
        is_unsure=bool(decisions.unsure[0]),
        margin=confidence - runner_up,
    )
