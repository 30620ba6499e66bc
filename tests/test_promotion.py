"""The promotion rule: what farmers would be shown, each model under its own decision rule.

An accuracy floor and no class's recall falling beyond a tolerance (the evaluation set); a fitted rule
when the active model has one; at most 5% confidently wrong; field figures that do not fall.
"""

from classifier.registry.promotion import FieldComparison, ModelEvidence, PromotionPolicy, decide_promotion

POLICY = PromotionPolicy(accuracy_floor=0.8, recall_tolerance=0.05)
FIELD = {
    "field_potato_photos": 120,
    "confidently_wrong": 0.01,
    "answered_correctly": 0.6,
    "potato_rejected": 0.03,
    "other_crops_given_a_disease": 0.01,
}


def evaluation(accuracy, recalls, confidently_wrong=0.0):
    return {
        "accuracy": accuracy,
        "count": 100,
        "per_class": {label: {"recall": recall, "support": 10} for label, recall in recalls.items()},
        "confidently_wrong_rate": confidently_wrong,
    }


def model(accuracy, recalls, has_rule=True, field=FIELD, confidently_wrong=0.0):
    return ModelEvidence(evaluation(accuracy, recalls, confidently_wrong), has_rule, dict(field) if field else None)


def test_better_candidate_is_promoted():
    active = model(0.85, {"late_blight": 0.8, "healthy": 0.9})
    decision = decide_promotion(model(0.9, {"late_blight": 0.9, "healthy": 0.88}), active, POLICY)
    assert decision.promote and decision.reasons == []


def test_candidate_below_floor_is_held_back():
    decision = decide_promotion(model(0.7, {"late_blight": 0.9}), None, POLICY)
    assert not decision.promote
    assert "below the floor" in decision.summary


def test_candidate_losing_a_class_is_held_back_even_with_better_accuracy():
    active = model(0.85, {"late_blight": 0.9, "healthy": 0.9})
    candidate = model(0.95, {"late_blight": 0.99, "healthy": 0.8})
    decision = decide_promotion(candidate, active, POLICY)
    assert not decision.promote
    assert decision.reasons == ["recall of healthy fell from 0.900 to 0.800 (tolerance 0.050)"]


def test_a_class_the_candidate_cannot_predict_counts_as_zero_recall():
    active = model(0.85, {"late_blight": 0.9, "healthy": 0.9})
    decision = decide_promotion(model(0.9, {"late_blight": 0.95}), active, POLICY)
    assert not decision.promote and "healthy" in decision.summary


def test_empty_evaluation_set_never_promotes():
    decision = decide_promotion(ModelEvidence({"accuracy": 0.0, "count": 0, "per_class": {}}, True), None, POLICY)
    assert not decision.promote


def test_a_candidate_without_a_fitted_rule_never_replaces_one_with_a_rule():
    """Issue 25, item 1: fewer than 50 field photos, so no rule and no field figures; better lab accuracy
    alone does not promote it."""
    active = model(0.936, {"late_blight": 0.9, "healthy": 0.93})
    candidate = model(0.969, {"late_blight": 0.95, "healthy": 0.95}, has_rule=False, field=None)
    decision = decide_promotion(candidate, active, POLICY)
    assert not decision.promote
    assert any("no fitted decision rule" in reason for reason in decision.reasons)
    assert any("not measured on field photos" in reason for reason in decision.reasons)


def test_more_than_five_percent_confidently_wrong_is_refused_even_without_an_active_model():
    candidate = model(0.95, {"late_blight": 0.95}, field={**FIELD, "confidently_wrong": 0.167})
    decision = decide_promotion(candidate, None, POLICY)
    assert decision.reasons == ["confidently wrong on 16.7% of field potato photos (limit 5%)"]
    lab = decide_promotion(model(0.95, {"late_blight": 0.95}, confidently_wrong=0.06), None, POLICY)
    assert lab.reasons == ["confidently wrong on 6.0% of the evaluation set (limit 5%)"]


def test_field_figures_that_fall_are_refused_on_the_same_photos_first():
    active = model(0.85, {"late_blight": 0.9})
    candidate = model(0.95, {"late_blight": 0.95})  # same cross-validated figures as the active model
    same_photos = FieldComparison(
        {**FIELD, "field_potato_photos": 30, "confidently_wrong": 0.04, "answered_correctly": 0.5},
        {**FIELD, "field_potato_photos": 30, "confidently_wrong": 0.0},
    )
    decision = decide_promotion(candidate, active, POLICY, same_photos)
    assert decision.reasons == [
        "confidently wrong went from 0.0% to 4.0% on the same field photos",
        "right answers shown went from 60.0% to 50.0% on the same field photos",
    ]
    # Too few photos in common: each model's own cross-validation decides (here: no change).
    few = FieldComparison(
        {**same_photos.candidate, "field_potato_photos": 5}, {**same_photos.active, "field_potato_photos": 5}
    )
    assert decide_promotion(candidate, active, POLICY, few).promote


def test_an_active_model_without_field_figures_leaves_the_decision_to_an_admin():
    active = model(0.85, {"late_blight": 0.9}, field=None)
    decision = decide_promotion(model(0.95, {"late_blight": 0.95}), active, POLICY)
    assert decision.reasons == ["the active model has no field figures to compare with: an admin must decide"]
