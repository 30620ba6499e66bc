"""Turning training runs and model versions into what the admins' pages show."""

from __future__ import annotations

from django.conf import settings

from classifier.advice.defaults import display_name
from classifier.checked import COLLECTED, UPLOADS, CheckedCounts
from classifier.models import ModelVersion
from classifier.registry.promotion import FIELD_FIGURE_NAMES, PASSED
from training.models import TrainingRun
from training.selectors import training_run_progress

#: Who or what started a run or made a model, when it was not a person.
CREATORS = {
    "schedule": "the weekly schedule",
    "cli": "the command line",
    "shipped": "shipped with the app",
    "retraining": "retraining",
}
PROMOTABLE = (ModelVersion.Status.CANDIDATE, ModelVersion.Status.RETIRED)
_POTATO = ("early_blight", "late_blight", "healthy", "bacterial_wilt")  # training.field.report.POTATO_CLASSES


def creator(name: str) -> str:
    return CREATORS.get(name, name or "unknown")


def eta_text(seconds: float | None) -> str:
    """'about 4 min left', or '' when there is no estimate."""
    if seconds is None or seconds <= 0:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


def run_progress(run: TrainingRun) -> dict:
    """The JSON the progress bar polls: the selector's data with words for people."""
    data = training_run_progress(run)
    data.update(
        {
            "status_display": run.get_status_display(),
            "is_finished": run.is_finished,
            "eta_text": eta_text(run.eta_seconds) if not run.is_finished else "",
            "percent": round(100 * run.fraction_done),
            "waiting": run.status == TrainingRun.Status.QUEUED,
        }
    )
    data.pop("error")  # can be long; the page shows it once the run has failed
    return data


def present_run(run: TrainingRun) -> dict:
    metrics = run.metrics or {}
    error_lines = [line for line in (run.error or "").strip().splitlines() if line.strip()]
    headline = None
    if run.kind == TrainingRun.Kind.RETRAIN and run.status == TrainingRun.Status.DONE and metrics:
        headline = {
            "candidate_accuracy": metrics.get("candidate_accuracy"),
            "active_accuracy": metrics.get("active_accuracy"),
            "promoted": bool(metrics.get("promoted")),
            "reasons": metrics.get("reasons") or [],
            "version_number": metrics.get("model_version"),
            "candidate_by_source": _recalls(metrics.get("candidate_by_source")),
            "active_by_source": _recalls(metrics.get("active_by_source")),
            "training_photos": metrics.get("training_photos"),
            "labelled_uploads": metrics.get("labelled_uploads"),
            "collected_photos": metrics.get("collected_photos"),
            "photos_by_source": photo_sources(metrics.get("photos_by_source")),
            "evaluation_photos": metrics.get("evaluation_photos"),
        }
    return {
        "run": run,
        "is_active": not run.is_finished,
        "creator": creator(run.created_by),
        "percent": round(100 * run.fraction_done),
        "eta_text": eta_text(run.eta_seconds) if not run.is_finished else "",
        "error_summary": error_lines[-1] if error_lines else "",
        "headline": headline,
        "shuffled": bool((run.parameters or {}).get("shuffle_labels")),
    }


def _recalls(per_folder: dict | None) -> list[dict]:
    """[{"source": "field", "recall": 0.8, "support": 30}, ...] from an evaluation's per_folder."""
    return [
        {"source": source, "recall": entry.get("recall"), "support": entry.get("support", 0)}
        for source, entry in sorted((per_folder or {}).items())
    ]


def present_version(version: ModelVersion) -> dict:
    """A version's row: its scores beside the active model's on the same evaluation set."""
    evaluation = version.evaluation or {}
    candidate = evaluation.get("candidate") or None
    active = evaluation.get("active") or None
    promotion = evaluation.get("promotion") or {}
    shipped = version.created_by == "shipped"
    made_by = "Shipped with the app" if shipped else f"Made by {creator(version.created_by)}"
    return {
        "version": version,
        "made_by": made_by,
        "evaluated": candidate is not None,
        "candidate_accuracy": candidate.get("accuracy") if candidate else None,
        "active_accuracy": active.get("accuracy") if active else None,
        "compared_with": evaluation.get("active_version"),
        "evaluation_photos": candidate.get("count") if candidate else None,
        "sources": _side_by_side(candidate, active, "per_folder"),
        "classes": _side_by_side(candidate, active, "per_class", settings.PROMOTION_RECALL_TOLERANCE),
        "field": field_rows(evaluation.get("field")),
        "collection": collection_rows(evaluation.get("collection")),
        "passed": bool(promotion.get("passed")),
        "passed_text": PASSED,
        "reasons": promotion.get("reasons") or [],
        "report": _report_accuracies(version.metrics) if candidate is None else [],
        "can_promote": version.status in PROMOTABLE,
        "can_roll_back": version.status == ModelVersion.Status.RETIRED,
    }


def _side_by_side(candidate: dict | None, active: dict | None, key: str, tolerance: float | None = None) -> list:
    """Recall per source (lab/field) or per class, this model beside the one it was compared with."""
    mine = (candidate or {}).get(key) or {}
    theirs = (active or {}).get(key) or {}
    rows = []
    for name in sorted(set(mine) | set(theirs)):
        recall = mine.get(name, {}).get("recall")
        before = theirs.get(name, {}).get("recall")
        support = mine.get(name, {}).get("support", theirs.get(name, {}).get("support", 0))
        if key == "per_class" and not support:
            continue  # a class with no photos in the set says nothing
        dropped = tolerance is not None and before is not None and (recall or 0.0) < before - tolerance
        rows.append({"name": name, "recall": recall, "before": before, "support": support, "dropped": dropped})
    return rows


def field_rows(field: dict | None) -> dict | None:
    """What each model would show farmers on field photos (``training.field.evidence``): on the same
    photos when the run had some in common, else each model's own cross-validated figures."""
    if not field or not field.get("candidate"):
        return None
    same = field.get("same_photos")
    mine, theirs = (same["candidate"], same["active"]) if same else (field["candidate"], field.get("active") or {})
    return {
        "same_photos": bool(same),
        "photos": mine.get("field_potato_photos"),
        "rows": [
            {"name": words, "value": mine.get(name), "before": theirs.get(name)}
            for name, words in FIELD_FIGURE_NAMES.items()
            if mine.get(name) is not None or theirs.get(name) is not None
        ],
    }


#: Who took the field photos a run's figures are given on, in words (``training.retraining`` kinds).
PHOTO_KINDS = {
    "all": "every field photo",
    "shared": "the shared field photos",
    "uploads": "farmers' reviewed photos",
    "collected": "officers' collected photos",
}
_TRAINED = {"lab": "lab", **{kind: words for kind, words in PHOTO_KINDS.items() if kind != "all"}}


def photo_sources(counts: dict | None) -> list[dict]:
    """How many photos of each kind a run trained on and judged, in words, never mixed."""
    counts = counts or {}
    return [
        {
            "name": words,
            "trained": counts.get("trained", {}).get(kind, 0),
            "cross_validated": counts.get("cross_validated", {}).get(kind, 0),
            "evaluation_set": counts.get("evaluation_set", {}).get(
                {"uploads": "field", "shared": "", "collected": "collected"}.get(kind, kind), 0
            ),
        }
        for kind, words in _TRAINED.items()
        if any(counts.get(part, {}).get(kind) for part in ("trained", "cross_validated"))
    ]


def collection_rows(collection: dict | None) -> list[dict] | None:
    """The field figures before and after officers' collected photos, on the same grouped folds, for each kind
    of photo apart (``training.field.evidence.collection_comparison``)."""
    if not collection:
        return None
    names = {**FIELD_FIGURE_NAMES, **{f"recall_{label}": f"{display_name(label)} recall (top 1)" for label in _POTATO}}
    return [
        {
            "photos": PHOTO_KINDS.get(subset["photos"], subset["photos"]),
            "judged": subset["judged"],
            "rows": [
                {"name": words, "before": subset["before"].get(name), "after": subset["after"].get(name)}
                for name, words in names.items()
                if subset["before"].get(name) is not None or subset["after"].get(name) is not None
            ],
        }
        for subset in collection.get("subsets", [])
    ]


def _report_accuracies(metrics: dict | None) -> list[dict]:
    """The shipped model's own test report (``metrics.json``): accuracy per test folder."""
    return [
        {
            "name": name,
            "accuracy": entry["accuracy"],
            "count": sum(c.get("support", 0) for c in entry.get("per_class", {}).values()),
        }
        for name, entry in (metrics or {}).items()
        if isinstance(entry, dict) and isinstance(entry.get("accuracy"), int | float)
    ]


def present_learning_curve(curve: dict | None, counts: CheckedCounts) -> list[dict]:
    """Per class: the labelled field photos the learning curve asks for, beside the checked field photos since
    (``classifier.checked``: farmers' reviewed uploads and officers' collected photos, apart), and the served
    districts with none of that class yet ("about N more late blight photos")."""
    rows = []
    for label, entry in (curve or {}).items():
        uploads, collected = counts.of(label, UPLOADS), counts.of(label, COLLECTED)
        needed, pool = entry.get("needed"), entry.get("pool", 0)
        rows.append(
            {
                "label": label,
                "needed": needed,
                "low": entry.get("low"),
                "high": entry.get("high"),
                "pool": pool,
                "uploads": uploads,
                "collected": collected,
                "labelled": uploads + collected,
                "more": None if needed is None else max(0, needed - pool - uploads - collected),
                "districts_without": counts.districts_without(label),
            }
        )
    return rows
