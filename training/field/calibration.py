"""Fitting the decision rule (``classifier.decision.DecisionRule``) on out-of-fold predictions.

Three numbers, each chosen from data the model did not train on:

1. the temperature that minimises the negative log-likelihood (Guo et al., 2017);
2. ``reject_at``: the lowest "not a potato leaf" probability at which at most ``max_potato_rejected``
   of the real potato photos would be turned away;
3. ``unsure_below``: the lowest probability above which the potato answers given are right at
   least ``min_precision`` of the time, at that threshold and every higher one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifier.decision import DecisionRule, calibrate, decide

MAX_POTATO_REJECTED = 0.03
MIN_PRECISION = 0.95
MIN_ANSWERED = 20  # precision over fewer answers than this is too noisy to hold a threshold to


@dataclass(frozen=True)
class FitData:
    """Out-of-fold field photos: model probabilities, true class index, and which ones count.

    ``potato``: real potato photos (their rejection is the error to keep rare); ``counted``:
    photos whose potato answer is scored right or wrong (tomato, a close relative with the same
    late-blight pathogen, is left out).
    """

    probabilities: np.ndarray
    truth: np.ndarray
    potato: np.ndarray
    counted: np.ndarray


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the mean negative log-likelihood of the true classes."""
    from scipy.optimize import minimize_scalar

    def loss(log_temperature: float) -> float:
        calibrated = calibrate(probabilities, float(np.exp(log_temperature)))
        return float(-np.mean(np.log(np.clip(calibrated[np.arange(len(truth)), truth], 1e-12, 1.0))))

    result = minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return round(float(np.exp(result.x)), 4)


def choose_reject_at(reject_probabilities_of_potato: np.ndarray, max_rate: float = MAX_POTATO_REJECTED) -> float:
    """The lowest threshold that turns away at most ``max_rate`` of the potato photos."""
    values = np.sort(np.asarray(reject_probabilities_of_potato, dtype=np.float64))
    if not len(values):
        return 0.5
    allowed = int(np.floor(max_rate * len(values)))  # photos at or above the threshold
    if allowed >= len(values):
        return float(values[0])
    # Strictly above the (allowed+1)-th highest value, so that photo and all below it stay;
    # rounded up to 1e-6 so the number stored in labels.json still excludes it.
    above = values[len(values) - allowed - 1]
    return min(1.0, float(np.floor(above * 1e6) + 1) / 1e6)  # the next step of 1e-6 above it


def choose_unsure_below(
    confidence: np.ndarray, correct: np.ndarray, min_precision: float = MIN_PRECISION, min_answered: int = MIN_ANSWERED
) -> float:
    """The lowest confidence threshold whose answers, and those of every higher threshold with at
    least ``min_answered`` answers, are right at least ``min_precision`` of the time.

    Returns 1.0 when no threshold reaches the precision: ``decide`` then answers nothing as sure.
    """
    order = np.argsort(-np.asarray(confidence, dtype=np.float64), kind="stable")
    sorted_confidence = np.asarray(confidence, dtype=np.float64)[order]
    hits = np.cumsum(np.asarray(correct, dtype=np.float64)[order])
    answered = np.arange(1, len(order) + 1)
    precision = hits / answered
    best = 1.0
    for position in range(len(order)):
        # Ties: a threshold answers every photo with that confidence, so judge at a tie's last one.
        if position + 1 < len(order) and sorted_confidence[position + 1] == sorted_confidence[position]:
            continue
        if answered[position] >= min_answered and precision[position] < min_precision:
            break
        if answered[position] >= min_answered:
            best = float(sorted_confidence[position])
    return round(best, 6)


def fit_rule(
    data: FitData,
    labels: list[str],
    reject_label: str,
    max_potato_rejected: float = MAX_POTATO_REJECTED,
    min_precision: float = MIN_PRECISION,
) -> DecisionRule:
    """Temperature, then the reject threshold, then the unsure threshold, in that order."""
    temperature = fit_temperature(data.probabilities, data.truth)
    calibrated = calibrate(data.probabilities, temperature)
    reject = labels.index(reject_label)
    reject_at = choose_reject_at(calibrated[data.potato, reject], max_potato_rejected)
    decisions = decide(data.probabilities, labels, reject_label, DecisionRule(temperature, reject_at, 0.0))
    answered = data.counted & ~decisions.rejected
    correct = decisions.answer[answered] == data.truth[answered]
    unsure_below = choose_unsure_below(decisions.confidence[answered], correct, min_precision)
    return DecisionRule(temperature, reject_at, unsure_below)
