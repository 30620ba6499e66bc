"""How the shipped recipe and its "not sure" threshold are chosen from the cross-validation."""

from __future__ import annotations

import numpy as np
import pytest

from training.field.report import TARGETS, closest_to_targets, shipped_rule, shortfall

REJECT = "not_potato_leaf"
CLASSES = ["early_blight", "late_blight", REJECT]


def _metrics(**values: float) -> dict:
    met = {name: (target if sense == ">=" else 0.0) for name, (sense, target) in TARGETS.items()}
    return {name: {"mean": value} for name, value in (met | values).items()}


def test_shortfall_adds_the_points_each_missed_target_is_missed_by():
    assert shortfall(_metrics()) == 0.0
    assert shortfall(_metrics(recall_early_blight=0.80, other_crops_rejected=0.60, potato_rejected=0.08)) == 43.0
    assert shortfall(_metrics(recall_late_blight=0.99)) == 0.0  # beating a target earns nothing


def test_the_closest_arm_never_buys_recall_with_confidently_wrong_answers():
    arms = {
        "careful": {"metrics": _metrics(recall_early_blight=0.5)},
        "reckless": {"metrics": _metrics(confidently_wrong=0.12)},
        "middling": {"metrics": _metrics(recall_early_blight=0.6)},
    }
    for arm in arms.values():
        arm["shortfall"] = shortfall(arm["metrics"])
    assert arms["reckless"]["shortfall"] < arms["middling"]["shortfall"] < arms["careful"]["shortfall"]
    assert closest_to_targets(arms) == "middling"
    assert closest_to_targets({"reckless": arms["reckless"]}) is None


def _repeats_and_photos(count: int = 80) -> tuple[dict, dict]:
    """One repeat of two folds: every photo's true class is the most probable, some by little."""
    rng = np.random.default_rng(3)
    photos, folds = {}, []
    for fold in range(2):
        keys, probabilities = [], []
        for number in range(count // 2):
            key = f"field/{fold}-{number}.jpg"
            truth = number % 3  # a third are other crops
            photos[key] = {"key": key, "label": CLASSES[truth], "domain": "field", "subset": "", "group": key}
            row = rng.uniform(0.0, 0.3, 3)
            row[truth] = rng.uniform(0.3, 1.0)
            keys.append(key)
            probabilities.append((row / row.sum()).tolist())
        folds.append(
            {
                "classes": CLASSES,
                "reject_label": REJECT,
                "keys": keys,
                "probabilities": probabilities,
                "fold": fold,
                "recipe": {},
                "fit": {"seconds": 1.0},
            }
        )
    return {0: folds}, photos


def test_the_unsure_threshold_ships_only_where_its_answers_held_on_other_folds():
    repeats, photos = _repeats_and_photos()
    fitted = shipped_rule(repeats, photos)  # cross-fitted here: every answer right, so it is kept
    assert fitted.unsure_below < 1.0

    def judged(given: list[int], right: list[int]) -> float:
        metrics = {"answers_given": {"values": given}, "answers_right": {"values": right}}
        return shipped_rule(repeats, photos, {"metrics": metrics}).unsure_below

    assert judged([25, 25], [24, 24]) == fitted.unsure_below  # 48 of 50 right on held-out folds
    assert judged([7, 0], [4, 0]) == 1.0  # right in-sample, wrong on the folds it was not fitted on
    assert judged([8, 5], [8, 5]) == 1.0  # all right, but 13 answers are too few to hold a threshold to
    assert judged([], []) == 1.0  # no held-out answer at all: no evidence either way


def test_an_arm_not_measured_on_every_target_is_not_a_candidate():
    partial = {"metrics": _metrics()}
    del partial["metrics"]["lab_accuracy"]
    partial["shortfall"] = shortfall(partial["metrics"])
    whole = {"metrics": _metrics(recall_healthy=0.5)}
    whole["shortfall"] = shortfall(whole["metrics"])
    assert partial["shortfall"] < whole["shortfall"]
    assert closest_to_targets({"partial": partial, "whole": whole}) == "whole"


def test_an_arm_measured_over_one_repeat_is_reported_but_not_shipped():
    from training.templatetags.report_format import pct_spread

    arms = {
        "once": {"metrics": _metrics(recall_early_blight=0.84), "repeats": 1},
        "twice": {"metrics": _metrics(recall_early_blight=0.50), "repeats": 2},
    }
    for arm in arms.values():
        arm["shortfall"] = shortfall(arm["metrics"])
    assert closest_to_targets(arms) == "twice"
    assert pct_spread({"mean": 0.5, "std": 0.0, "values": [0.5]}) == "50.0"  # no spread pretended
    assert pct_spread({"mean": 0.5, "std": 0.01, "values": [0.49, 0.51]}) == "50.0 ± 1.0"


def test_averaged_heads_are_for_the_frozen_backbone_only():
    from training.field.recipe import Recipe

    with pytest.raises(ValueError, match="heads"):
        Recipe("both", heads=3, fine_tune_layers=12)


def test_retraining_trains_at_the_shipped_recipes_input_size_unless_told(settings):
    from training.field.protocol import ARMS, CHOSEN
    from training.retraining import retraining_config

    settings.RETRAIN_IMAGE_SIZE = None
    assert retraining_config().recipe.image_size == ARMS[CHOSEN].image_size
    settings.RETRAIN_IMAGE_SIZE = 64
    assert retraining_config().recipe.image_size == 64


@pytest.mark.parametrize(
    ("arm", "says", "does_not_say"),
    [
        ("fine_tuned_224", "top 4 layers train with it", "is frozen"),
        ("averaged_224", "3 times with different seeds", "layers train"),
        ("full_224", "is frozen", "seeds"),
        ("whole_128", "the whole backbone trains", "frozen"),
    ],
)
def test_the_model_card_says_what_of_the_backbone_trained(arm, says, does_not_say):
    from training.field.model_card import _backbone_and_heads
    from training.field.protocol import ARMS

    text = _backbone_and_heads(ARMS[arm].as_dict())
    assert says in text and does_not_say not in text
    assert f"{ARMS[arm].image_size} px" in text


@pytest.mark.parametrize(("recall", "says"), [(0.866, "meets the 85%"), (0.6, "is below the 85%")])
def test_the_model_card_says_whether_bacterial_wilt_earns_its_place(recall, says):
    from training.field.model_card import _bacterial_wilt_verdict

    metrics = {"recall_bacterial_wilt": {"mean": recall, "std": 0.009}}
    assert says in _bacterial_wilt_verdict(metrics)
    assert f"{100 * recall:.1f} ± 0.9%" in _bacterial_wilt_verdict(metrics)
    assert _bacterial_wilt_verdict({"recall_healthy": {"mean": 0.9, "std": 0.0}}) is None
