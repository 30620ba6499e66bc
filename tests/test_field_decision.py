"""The decision rule on fixed probability vectors: calibration, "not a potato leaf", "not sure"."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.decision import DecisionRule, calibrate, decide, diagnose
from classifier.metrics import expected_calibration_error
from training.field.calibration import FitData, choose_reject_at, choose_unsure_below, fit_rule, fit_temperature

LABELS = ["early_blight", "healthy", "late_blight", "not_potato_leaf"]
REJECT = "not_potato_leaf"


def test_temperature_one_changes_nothing_and_higher_flattens():
    p = np.array([[0.7, 0.2, 0.05, 0.05]])
    assert np.allclose(calibrate(p, 1.0), p)
    flatter = calibrate(p, 2.0)[0]
    assert flatter[0] < 0.7 and flatter[0] == flatter.max()
    assert np.isclose(flatter.sum(), 1.0)


def test_reject_threshold_turns_a_photo_away_even_when_a_disease_wins():
    rule = DecisionRule(1.0, reject_at=0.4, unsure_below=0.5)
    diagnosis = diagnose(np.array([0.5, 0.05, 0.0, 0.45]), LABELS, REJECT, rule)
    assert diagnosis.label == REJECT and not diagnosis.is_potato_leaf and not diagnosis.is_unsure


def test_below_the_reject_threshold_the_best_potato_class_answers_or_is_unsure():
    rule = DecisionRule(1.0, reject_at=0.9, unsure_below=0.5)
    # "not a potato leaf" wins the argmax but stays under its threshold: the potato answer is unsure.
    unsure = diagnose(np.array([0.1, 0.05, 0.25, 0.6]), LABELS, REJECT, rule)
    assert unsure.label == "late_blight" and unsure.is_potato_leaf and unsure.is_unsure
    sure = diagnose(np.array([0.9, 0.02, 0.03, 0.05]), LABELS, REJECT, rule)
    assert sure.label == "early_blight" and not sure.is_unsure
    assert sure.top[0]["label"] == "early_blight"


def test_the_old_rule_is_argmax_and_a_flat_threshold():
    rule = DecisionRule(unsure_below=0.6)
    assert diagnose(np.array([0.1, 0.1, 0.1, 0.7]), LABELS, REJECT, rule).label == REJECT
    low = diagnose(np.array([0.1, 0.1, 0.3, 0.5]), LABELS, REJECT, rule)
    assert low.label == REJECT and low.is_unsure  # as before: a weak rejection was unsure too


def test_temperature_divides_log_probabilities_before_the_thresholds():
    rule = DecisionRule(temperature=3.0, reject_at=0.99, unsure_below=0.6)
    diagnosis = diagnose(np.array([0.8, 0.1, 0.05, 0.05]), LABELS, REJECT, rule)
    expected = calibrate(np.array([[0.8, 0.1, 0.05, 0.05]]), 3.0)[0, 0]
    assert diagnosis.confidence == pytest.approx(expected) and expected < 0.6
    assert diagnosis.is_unsure


def test_rule_round_trips_through_a_dict_and_defaults_to_the_old_rule():
    rule = DecisionRule(1.7, 0.42, 0.81)
    assert DecisionRule.from_dict(rule.as_dict()) == rule
    assert DecisionRule.from_dict(None, 0.6) == DecisionRule(1.0, None, 0.6)


def test_fit_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 4000)
    logits = rng.normal(0, 1, (4000, 3))
    logits[np.arange(4000), truth] += 1.0
    honest = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    overconfident = calibrate(honest, 1 / 3)  # three times too sharp
    assert fit_temperature(overconfident, truth) == pytest.approx(3.0, rel=0.1)


def test_reject_threshold_keeps_the_share_of_potato_photos_turned_away():
    reject_probabilities = np.linspace(0, 1, 101)
    threshold = choose_reject_at(reject_probabilities, max_rate=0.05)
    assert np.mean(reject_probabilities >= threshold) <= 0.05
    assert np.mean(reject_probabilities >= threshold - 0.011) > 0.05  # the lowest such threshold


def test_unsure_threshold_reaches_the_precision_at_every_higher_threshold():
    confidence = np.linspace(0.3, 1.0, 200)
    correct = confidence > 0.55  # every answer under 0.55 is wrong
    threshold = choose_unsure_below(confidence, correct, min_precision=0.95, min_answered=20)
    answered = confidence >= threshold
    assert correct[answered].mean() >= 0.95
    assert 0.5 < threshold < 0.6


def test_unsure_threshold_answers_nothing_when_no_threshold_is_good_enough():
    confidence = np.linspace(0.3, 1.0, 100)
    assert choose_unsure_below(confidence, np.zeros(100, bool), 0.95, 20) == 1.0


def test_fit_rule_is_honest_on_its_own_data():
    rng = np.random.default_rng(1)
    n = 600
    truth = rng.integers(0, 4, n)
    logits = rng.normal(0, 1.5, (n, 4))
    logits[np.arange(n), truth] += 2.0
    probabilities = np.exp(logits * 2) / np.exp(logits * 2).sum(axis=1, keepdims=True)
    data = FitData(probabilities, truth, truth != 3, np.ones(n, bool))
    rule = fit_rule(data, LABELS, REJECT, max_potato_rejected=0.05, min_precision=0.95)
    decisions = decide(probabilities, LABELS, REJECT, rule)
    potato = truth != 3
    assert decisions.rejected[potato].mean() <= 0.05
    answered = ~decisions.rejected & ~decisions.unsure
    assert (decisions.answer[answered] == truth[answered]).mean() >= 0.95


def test_expected_calibration_error():
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0] * 4, [False] * 4) == pytest.approx(1.0)


def test_a_threshold_of_one_is_never_sure_even_where_a_probability_rounds_to_one():
    rule = DecisionRule(0.05, reject_at=0.9, unsure_below=1.0)  # a low temperature sharpens 0.9 to 1.0
    decisions = decide(np.array([[0.9, 0.05, 0.03, 0.02]]), LABELS, REJECT, rule)
    assert decisions.confidence[0] == 1.0
    assert decisions.unsure[0]
    assert rule.never_sure and not DecisionRule(1.0, 0.9, 0.999).never_sure
