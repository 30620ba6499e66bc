"""Whether a candidate model may replace the active one (after TFX's model blessing).

Both models are scored on the same fixed evaluation set. A candidate is promoted automatically
only when its accuracy clears a floor and no class's recall drops more than a tolerance below the
active model's; otherwise it stays a candidate and the reasons are kept for admins to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PromotionPolicy:
    accuracy_floor: float
    recall_tolerance: float


PASSED = "cleared the accuracy floor and every class's recall"


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


def decide_promotion(candidate: dict, active: dict | None, policy: PromotionPolicy) -> PromotionDecision:
    """Compare two evaluation summaries (``classifier.evaluation.evaluate_items`` output)."""
    reasons = []
    if candidate["count"] == 0:
        return PromotionDecision(False, ["the evaluation set is empty"])
    if candidate["accuracy"] < policy.accuracy_floor:
        reasons.append(f"accuracy {candidate['accuracy']:.3f} is below the floor {policy.accuracy_floor:.3f}")
    if active is not None:
        for label, before in sorted(active["per_class"].items()):
            if before["support"] == 0:
                continue
            after = candidate["per_class"].get(label, {"recall": 0.0})
            if after["recall"] < before["recall"] - policy.recall_tolerance:
                reasons.append(
                    f"recall of {label} fell from {before['recall']:.3f} to {after['recall']:.3f} "
                    f"(tolerance {policy.recall_tolerance:.3f})"
                )
    return PromotionDecision(not reasons, reasons)
