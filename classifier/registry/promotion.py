"""Whether a candidate model may replace the active one (after TFX's model blessing).

Promotion judges what farmers would be shown: each model under its own decision rule, on the fixed
evaluation set (lab photos and held-out officer labels) and on field photos (``training.field.evidence``).
A candidate is promoted automatically only when all of these hold; otherwise it stays a candidate and
the reasons are kept for admins to read (they may still promote it by hand, with a reason):

- its evaluation accuracy clears a floor, and no class's recall drops more than a tolerance below the
  active model's;
- it has a fitted decision rule when the active model has one (without one it would fall back to the
  old rule, argmax with "not sure" below 0.6, which on field photos answers wrongly and confidently);
- it was measured on field photos, and there at most ``max_confidently_wrong`` of the potato photos get a
  wrong answer shown as sure;
- its confidently wrong share is not over the active model's plus a tolerance, and its field figures
  (right answers shown, potato photos turned away, other crops given a disease) do not fall by more than
  a tolerance, compared on the same field photos where they have enough in common, else with the field
  figures the active model was registered with; an active model with no field figures at all cannot be
  compared, and the candidate waits for an admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PASSED = "cleared every rule: accuracy floor, every class's recall, a fitted rule, and the field figures"

#: Field figures where a higher value is worse, and where a lower one is.
WORSE_WHEN_HIGHER = ("confidently_wrong", "potato_rejected", "other_crops_given_a_disease")
WORSE_WHEN_LOWER = ("answered_correctly",)
FIELD_FIGURE_NAMES = {
    "confidently_wrong": "confidently wrong",
    "potato_rejected": "potato photos turned away",
    "other_crops_given_a_disease": "other crops given a disease",
    "answered_correctly": "right answers shown",
}


@dataclass(frozen=True)
class PromotionPolicy:
    accuracy_floor: float
    recall_tolerance: float
    max_confidently_wrong: float = 0.05
    confidently_wrong_tolerance: float = 0.01
    field_tolerance: float = 0.02
    min_field_photos: int = 20  # potato photos in common before two models are compared on them


@dataclass(frozen=True)
class ModelEvidence:
    """What one model would show farmers, each figure under its own decision rule.

    ``scores``: ``classifier.evaluation.evaluate_items`` on the evaluation set; ``has_rule``: it ships
    a fitted decision rule; ``field``: its field figures (``training.field.evidence.FIELD_FIGURES``) on
    photos it did not train on, ``None`` when it was not measured on field photos.
    """

    scores: dict
    has_rule: bool
    field: dict | None = None


@dataclass(frozen=True)
class FieldComparison:
    """Both models' field figures on the same photos, neither trained on."""

    candidate: dict
    active: dict


@dataclass
class PromotionDecision:
    promote: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons) if self.reasons else PASSED

    def as_dict(self) -> dict:
        """What a version's ``evaluation["promotion"]`` keeps: the reasons as a list, never re-parsed."""
        return {"passed": self.promote, "reasons": list(self.reasons)}


def decide_promotion(
    candidate: ModelEvidence,
    active: ModelEvidence | None,
    policy: PromotionPolicy,
    compared: FieldComparison | None = None,
) -> PromotionDecision:
    """Every reason the candidate may not replace ``active`` (none: promote)."""
    scores = candidate.scores
    if scores["count"] == 0:
        return PromotionDecision(False, ["the evaluation set is empty"])
    reasons = []
    if scores["accuracy"] < policy.accuracy_floor:
        reasons.append(f"accuracy {scores['accuracy']:.3f} is below the floor {policy.accuracy_floor:.3f}")
    reasons += _safety_reasons(candidate, policy)
    if active is not None:
        reasons += _recall_reasons(scores, active.scores, policy)
        if active.has_rule and not candidate.has_rule:
            reasons.append(
                "it has no fitted decision rule (too few field photos to fit one) while the active model has one: "
                "it would answer with the old rule, which is confidently wrong on field photos"
            )
        reasons += _comparison_reasons(candidate, active, policy, compared)
    return PromotionDecision(not reasons, reasons)


def _safety_reasons(candidate: ModelEvidence, policy: PromotionPolicy) -> list[str]:
    """Absolute limits on confidently wrong answers, on the evaluation set and on field photos."""
    reasons = []
    limit = policy.max_confidently_wrong
    evaluation_wrong = candidate.scores.get("confidently_wrong_rate", 0.0)
    if evaluation_wrong > limit:
        reasons.append(f"confidently wrong on {evaluation_wrong:.1%} of the evaluation set (limit {limit:.0%})")
    if candidate.field is None:
        reasons.append("it was not measured on field photos (too few for a cross-validation)")
    elif (candidate.field.get("confidently_wrong") or 0.0) > limit:
        reasons.append(
            f"confidently wrong on {candidate.field['confidently_wrong']:.1%} of field potato photos "
            f"(limit {limit:.0%})"
        )
    return reasons


def _recall_reasons(scores: dict, before_scores: dict, policy: PromotionPolicy) -> list[str]:
    reasons = []
    for label, before in sorted(before_scores["per_class"].items()):
        if before["support"] == 0:
            continue
        after = scores["per_class"].get(label, {"recall": 0.0})
        if after["recall"] < before["recall"] - policy.recall_tolerance:
            reasons.append(
                f"recall of {label} fell from {before['recall']:.3f} to {after['recall']:.3f} "
                f"(tolerance {policy.recall_tolerance:.3f})"
            )
    return reasons


def _comparison_reasons(
    candidate: ModelEvidence, active: ModelEvidence, policy: PromotionPolicy, compared: FieldComparison | None
) -> list[str]:
    """The candidate against the active model: confidently wrong answers, then the field figures."""
    reasons = []
    now = active.scores.get("confidently_wrong_rate", 0.0)
    after = candidate.scores.get("confidently_wrong_rate", 0.0)
    if after > now + policy.confidently_wrong_tolerance:
        reasons.append(f"confidently wrong on the evaluation set rose from {now:.1%} to {after:.1%}")
    if candidate.field is None:
        return reasons
    if compared is not None and (compared.active.get("field_potato_photos") or 0) >= policy.min_field_photos:
        pair, where = (compared.candidate, compared.active), "on the same field photos"
    elif active.field is not None:
        pair, where = (candidate.field, active.field), "on field photos (each model's own cross-validation)"
    else:
        return [*reasons, "the active model has no field figures to compare with: an admin must decide"]
    for name in WORSE_WHEN_HIGHER + WORSE_WHEN_LOWER:
        after, now = pair[0].get(name), pair[1].get(name)
        if after is None or now is None:
            continue
        tolerance = policy.confidently_wrong_tolerance if name == "confidently_wrong" else policy.field_tolerance
        worse = after > now + tolerance if name in WORSE_WHEN_HIGHER else after < now - tolerance
        if worse:
            reasons.append(f"{FIELD_FIGURE_NAMES[name]} went from {now:.1%} to {after:.1%} {where}")
    return reasons
