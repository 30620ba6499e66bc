"""From class probabilities to the answer a farmer sees, at the level the evidence supports: one disease
(or healthy), "Leaf blight: early or late", "not a potato leaf", or "not sure, an officer will look".

A case is 1 to 6 photos from one garden; each photo's probabilities are calibrated and the case's are
combined into one distribution (``combine``). A model ships with its :class:`DecisionRule`, fitted on
cross-validated field photos (``training.field.calibration`` and ``training.field.cases``): a temperature
that makes its probabilities honest, the probability of "not a potato leaf" at which a case is turned
away, and per case size the probabilities at which a label alone, or the blight pair, is answered.
Models without one fall back to the old rule: the reject class wins by argmax, unsure below
``CLASSIFIER_UNSURE_BELOW``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PROBABILITY_FLOOR = 1e-12  # log(0) guard; the TFLite softmax can round a class to exactly 0


#: How a case's photos are combined (each photo's calibrated probabilities, then one distribution):
#: the mean of log-probabilities (a geometric mean), their product, or the mean of probabilities.
COMBINATIONS = ("mean_log", "product", "mean")
#: The one pair answered as "one of two": advice that is right for both exists (what to spray now).
BLIGHT_PAIR = ("early_blight", "late_blight")
MAX_CASE_PHOTOS = 6


class AnswerKind:
    """What the farmer is told (``Diagnosis.kind``; the API's ``answer.kind``)."""

    DIAGNOSIS = "diagnosis"  # one disease, or healthy
    ONE_OF = "one_of"  # "Leaf blight: early or late"
    NOT_POTATO_LEAF = "not_potato_leaf"
    NOT_SURE = "not_sure"  # an extension officer will look


@dataclass(frozen=True)
class DecisionRule:
    """How probabilities become an answer.

    ``temperature`` divides the log-probabilities before a softmax (temperature scaling);
    ``reject_at``: a case whose combined calibrated "not a potato leaf" probability reaches it is turned
    away (``None``: when that class has the highest probability); ``unsure_below``: a potato answer
    with a lower calibrated probability is shown as "not sure" (rules fitted before cases; a rule with
    ``answer_at`` uses that instead).

    A case of several photos (``combine``): each photo's calibrated probabilities are combined into
    one distribution. ``answer_at[n][label]``: the combined probability at which a case of ``n`` photos
    (the largest size fitted, for larger cases) is answered ``label`` alone; ``pair_at[n]``: the combined
    P(early blight) + P(late blight) at which it is answered "Leaf blight: early or late". A label or size
    without a threshold is never answered that way.
    """

    temperature: float = 1.0
    reject_at: float | None = None
    unsure_below: float = 0.6
    combine: str = "mean_log"
    answer_at: dict[str, dict[str, float]] | None = None
    pair_at: dict[str, float] | None = None
    views: list[str] | None = None  # test-time views each photo is read with (None: as sent only)

    def as_dict(self) -> dict:
        """The rule as ``labels.json`` keeps it; a rule without case thresholds keeps its three numbers."""
        data = asdict(self)
        if self.answer_at is None and self.pair_at is None:
            return {name: data[name] for name in ("temperature", "reject_at", "unsure_below")}
        return {name: value for name, value in data.items() if name != "views" or value}

    @property
    def never_sure(self) -> bool:
        """No potato answer is ever shown as sure: ``unsure_below`` 1.0 without case thresholds, or case
        thresholds that answer nothing (even where a low temperature rounds a probability up to 1.0)."""
        if self.answer_at is None and self.pair_at is None:
            return self.unsure_below >= 1.0
        thresholds = [t for size in (self.answer_at or {}).values() for t in size.values()]
        return all(t >= 1.0 for t in thresholds + list((self.pair_at or {}).values()))

    def never_answers(self, photos: int = 1, reject_label: str = "not_potato_leaf") -> bool:
        """No potato answer (alone or "one of two") for a case of ``photos``: all go to an officer."""
        if self.answer_at is None:
            return self.never_sure
        size = self._size(self.answer_at, photos)
        thresholds = [t for label, t in self.answer_at[size].items() if label != reject_label] if size else []
        return all(t >= 1.0 for t in thresholds) and self.pair_threshold(photos) >= 1.0

    def _size(self, table: dict, photos: int) -> str | None:
        sizes = sorted(int(size) for size in table)
        fitted = [size for size in sizes if size <= photos]
        return str(fitted[-1]) if fitted else None

    def answer_threshold(self, label: str, photos: int = 1) -> float:
        """The combined probability at which a case of ``photos`` is answered ``label`` alone."""
        if self.answer_at is None:
            return 1.0 if self.never_sure else self.unsure_below
        size = self._size(self.answer_at, photos)
        return 1.0 if size is None else float(self.answer_at[size].get(label, 1.0))

    def reject_threshold(self, reject_label: str | None, photos: int = 1) -> float | None:
        """The combined "not a potato leaf" probability at which a case of ``photos`` is turned away: the
        case size's own (``answer_at[n][reject_label]``) where fitted, else ``reject_at``."""
        size = self._size(self.answer_at or {}, photos)
        if size is not None and reject_label in self.answer_at[size]:
            return float(self.answer_at[size][reject_label])
        return self.reject_at

    def pair_threshold(self, photos: int = 1) -> float:
        """The combined P(early blight) + P(late blight) at which a case is answered "one of two"."""
        size = self._size(self.pair_at or {}, photos)
        return 1.0 if size is None else float(self.pair_at[size])

    @classmethod
    def from_dict(cls, data: dict | None, default_unsure_below: float = 0.6) -> DecisionRule:
        if not data:
            return cls(unsure_below=default_unsure_below)
        return cls(
            float(data.get("temperature", 1.0)),
            data.get("reject_at"),
            float(data.get("unsure_below", 1.0)),
            data.get("combine", "mean_log"),
            data.get("answer_at"),
            data.get("pair_at"),
            data.get("views"),
        )


@dataclass(frozen=True)
class Diagnosis:
    """The answer for one photo or a case of several: ``kind`` and ``labels`` are what the farmer is
    told; ``label``, ``confidence`` and ``top`` the model's combined output (its leading label)."""

    label: str
    confidence: float
    top: list[dict]
    is_potato_leaf: bool
    is_unsure: bool
    margin: float
    kind: str = ""
    labels: tuple[str, ...] = ()
    photos: int = 1

    def __post_init__(self) -> None:
        if not self.kind:  # built by hand from the older fields
            if not self.is_potato_leaf and not self.is_unsure:
                kind, labels = AnswerKind.NOT_POTATO_LEAF, (self.label,)
            elif self.is_unsure:
                kind, labels = AnswerKind.NOT_SURE, ()
            else:
                kind, labels = AnswerKind.DIAGNOSIS, (self.label,)
            object.__setattr__(self, "kind", kind)
            object.__setattr__(self, "labels", labels)


def calibrate(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling on log-probabilities; rows of ``probabilities`` stay rows."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def combine(calibrated: np.ndarray, how: str = "mean_log") -> np.ndarray:
    """One distribution from a case's photos' calibrated probabilities (rows); from a stack of cases of
    one size (cases, photos, classes), one per case, each as it would be alone."""
    calibrated = np.atleast_2d(np.asarray(calibrated, dtype=np.float64))
    if how == "mean":
        return calibrated.mean(axis=-2)
    logs = np.log(np.clip(calibrated, PROBABILITY_FLOOR, 1.0))
    combined = logs.sum(axis=-2) if how == "product" else logs.mean(axis=-2)
    combined = np.exp(combined - combined.max(axis=-1, keepdims=True))
    return combined / combined.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Decisions:
    """The rule applied to many photos (or combined cases) at once (evaluation and reports)."""

    answer: np.ndarray  # class index answered (the reject index when turned away)
    confidence: np.ndarray  # calibrated probability of that answer
    rejected: np.ndarray  # bool
    unsure: np.ndarray  # bool: a potato answer not shown alone ("one of two", or "not sure")
    calibrated: np.ndarray
    pair: np.ndarray  # bool: answered "Leaf blight: early or late"


def decide(
    probabilities: np.ndarray,
    labels: list[str],
    reject_label: str | None,
    rule: DecisionRule,
    photos: int = 1,
    calibrated: np.ndarray | None = None,
) -> Decisions:
    """Apply ``rule`` to a (n, classes) array of model probabilities, each row one photo (or, with
    ``calibrated`` given, one case's combined distribution of ``photos`` photos)."""
    if calibrated is None:
        calibrated = calibrate(np.atleast_2d(probabilities), rule.temperature)
    calibrated = np.atleast_2d(calibrated)
    reject = labels.index(reject_label) if reject_label in labels else None
    potato = calibrated.copy()
    if reject is not None:
        potato[:, reject] = -1.0
        at = rule.reject_threshold(reject_label, photos)
        rejected = calibrated.argmax(axis=1) == reject if at is None else calibrated[:, reject] >= at
    else:
        rejected = np.zeros(len(calibrated), dtype=bool)
    answer = np.where(rejected, reject if reject is not None else 0, potato.argmax(axis=1))
    confidence = calibrated[np.arange(len(calibrated)), answer]
    thresholds = np.array([rule.answer_threshold(label, photos) for label in labels])
    # A threshold of 1.0 answers nothing, even where a low temperature rounds a probability up to 1.0.
    below = (confidence < thresholds[answer]) | (thresholds[answer] >= 1.0)
    # A rejection decided by a fitted threshold is an answer; under the old rule it can be unsure too.
    unsure = below & ~(rejected & (rule.reject_at is not None))
    pair = np.zeros(len(calibrated), dtype=bool)
    if all(name in labels for name in BLIGHT_PAIR):
        mass = calibrated[:, [labels.index(name) for name in BLIGHT_PAIR]].sum(axis=1)
        at = rule.pair_threshold(photos)
        pair = unsure & ~rejected & (mass >= at) & (at < 1.0) & np.isin(answer, [labels.index(n) for n in BLIGHT_PAIR])
    return Decisions(answer, confidence, rejected, unsure, calibrated, pair)


def diagnose(
    probabilities: np.ndarray,
    labels: list[str],
    reject_label: str | None,
    rule: DecisionRule,
    top_k: int = 3,
) -> Diagnosis:
    """Read one photo's probability vector (a case of one)."""
    return diagnose_case([probabilities], labels, reject_label, rule, top_k)


def diagnose_case(
    photo_probabilities: list[np.ndarray],
    labels: list[str],
    reject_label: str | None,
    rule: DecisionRule,
    top_k: int = 3,
) -> Diagnosis:
    """The answer for a case: each photo's probabilities (one row, or one per test-time view) calibrated
    and combined by ``rule.combine``, then the photos combined the same way, then answered at the level the
    evidence supports. "Not sure" is never presented as a diagnosis: the farmer is told an officer will
    look at it."""
    photos = len(photo_probabilities)
    if photos < 1:
        raise ValueError("a case has at least one photo")
    per_photo = [combine(calibrate(np.atleast_2d(p), rule.temperature), rule.combine) for p in photo_probabilities]
    calibrated = combine(np.array(per_photo), rule.combine)
    decisions = decide(calibrated, labels, reject_label, rule, photos=photos, calibrated=calibrated)
    calibrated = decisions.calibrated[0]
    order = np.argsort(calibrated)[::-1]
    best = int(decisions.answer[0])
    confidence = float(decisions.confidence[0])
    runner_up = max((float(calibrated[i]) for i in order if i != best), default=0.0)
    rejected, unsure = bool(decisions.rejected[0]), bool(decisions.unsure[0])
    if rejected and not unsure:
        kind, answered = AnswerKind.NOT_POTATO_LEAF, (labels[best],)
    elif bool(decisions.pair[0]):
        kind, answered = AnswerKind.ONE_OF, BLIGHT_PAIR
    elif unsure:
        kind, answered = AnswerKind.NOT_SURE, ()
    else:
        kind, answered = AnswerKind.DIAGNOSIS, (labels[best],)
    return Diagnosis(
        label=labels[best],
        confidence=confidence,
        top=[{"label": labels[i], "confidence": round(float(calibrated[i]), 4)} for i in order[:top_k]],
        is_potato_leaf=not rejected,
        is_unsure=unsure,
        margin=confidence - runner_up,
        kind=kind,
        labels=answered,
        photos=photos,
    )
