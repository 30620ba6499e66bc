"""The promotion rule: an accuracy floor, and no class's recall may fall beyond a tolerance."""

from classifier.registry.promotion import PromotionPolicy, decide_promotion

POLICY = PromotionPolicy(accuracy_floor=0.8, recall_tolerance=0.05)


def evaluation(accuracy, recalls):
    return {
        "accuracy": accuracy,
        "count": 100,
        "per_class": {label: {"recall": recall, "support": 10} for label, recall in recalls.items()},
    }


def test_better_candidate_is_promoted():
    active = evaluation(0.85, {"late_blight": 0.8, "healthy": 0.9})
    decision = decide_promotion(evaluation(0.9, {"late_blight": 0.9, "healthy": 0.88}), active, POLICY)
    assert decision.promote and decision.reasons == []


def test_candidate_below_floor_is_held_back():
    decision = decide_promotion(evaluation(0.7, {"late_blight": 0.9}), None, POLICY)
    assert not decision.promote
    assert "below the floor" in decision.summary


def test_candidate_losing_a_class_is_held_back_even_with_better_accuracy():
    active = evaluation(0.85, {"late_blight": 0.9, "healthy": 0.9})
    candidate = evaluation(0.95, {"late_blight": 0.99, "healthy": 0.8})
    decision = decide_promotion(candidate, active, POLICY)
    assert not decision.promote
    assert decision.reasons == ["recall of healthy fell from 0.900 to 0.800 (tolerance 0.050)"]


def test_a_class_the_candidate_cannot_predict_counts_as_zero_recall():
    active = evaluation(0.85, {"late_blight": 0.9, "healthy": 0.9})
    decision = decide_promotion(evaluation(0.9, {"late_blight": 0.95}), active, POLICY)
    assert not decision.promote and "healthy" in decision.summary


def test_empty_evaluation_set_never_promotes():
    decision = decide_promotion({"accuracy": 0.0, "count": 0, "per_class": {}}, None, POLICY)
    assert not decision.promote
