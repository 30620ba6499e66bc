"""Turning review and report data into what the dashboard templates show."""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict

from classifier.advice.defaults import display_name
from classifier.labels.services import REJECT_DISPLAY_NAME
from classifier.models import Label, LabelClass, Submission
from classifier.reports import UNSURE, UNUSABLE, DiseaseReport
from classifier.submissions.selectors import was_given_to_farmer

#: Colours of the chart's series, in class order (colour-blind-safe Okabe-Ito palette).
PALETTE = ["#E69F00", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#56B4E9", "#F0E442", "#999999", "#000000"]
FIXED_COLOURS = {
    "healthy": "#009E73",
    "late_blight": "#D55E00",
    "early_blight": "#E69F00",
    "bacterial_wilt": "#0072B2",
    "unsure": "#999999",
}


def short_name(label: str) -> str:
    """A class's name as the dashboard shows it: short, for tables and buttons."""
    if label == settings.REJECT_LABEL:
        return REJECT_DISPLAY_NAME
    return {UNSURE: "Unsure (model)", UNUSABLE: "Unusable photo"}.get(label) or display_name(label)


def filter_query(query: QueryDict) -> str:
    """The filters of a query string, without the page number, to carry between pages."""
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


def percent(value: float) -> int:
    return round(100 * value)


def label_options(classes: list[LabelClass], predicted: str, selected: str) -> list[dict]:
    """The classes an officer picks from, numbered for the 1..n keys."""
    return [
        {
            "key": index if index <= 9 else None,
            "name": c.name,
            "display": c.display_name or short_name(c.name),
            "is_predicted": c.name == predicted,
            "is_selected": c.name == selected,
            "is_reject": c.is_reject,
        }
        for index, c in enumerate(classes, start=1)
    ]


def present_review(submission: Submission, classes: list[LabelClass], history: list[Label]) -> dict:
    """Context for the review page: the model's top 3, the choices, the history of verdicts."""
    prediction = submission.prediction
    current = history[0] if history and history[0].is_current else None
    # Pre-select the model's label only where the farmer was given it: a "not sure" or "early or late" case
    # must get the officer's own choice, not a guess confirmed with one key press.
    guess = prediction.label if was_given_to_farmer(prediction) else ""
    selected = current.label if current and current.label else guess
    return {
        "submission": submission,
        "prediction": prediction,
        "photos": list(submission.photos.all()),
        "answer_display": answer_display(prediction),
        "field_check": field_check_display(submission),
        "predicted_display": short_name(prediction.label),
        "percent": percent(prediction.confidence),
        "margin_percent": percent(prediction.margin),
        "top": [
            {"name": entry["label"], "display": short_name(entry["label"]), "percent": percent(entry["confidence"])}
            for entry in prediction.top
        ],
        "options": label_options(classes, prediction.label, selected),
        "current": current,
        "history": history,
        "reject_reasons": Label.RejectReason,
    }


def answer_display(prediction) -> str:
    """What the farmer was told, for officers."""
    if prediction.answer_kind == "one_of":
        return "Leaf blight: early or late"
    if prediction.answer_kind == "not_sure":
        return "not sure"
    return " or ".join(short_name(label) for label in prediction.answer_labels) or short_name(prediction.label)


def field_check_display(submission: Submission) -> str:
    """The farmer's own check and her answer ("" when she gave none)."""
    if not submission.field_check_answer:
        return ""
    return f"{submission.get_field_check_display()}: {submission.get_field_check_answer_display()}"


def colour_for(name: str, index: int) -> str:
    return FIXED_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def weekly_chart(report: DiseaseReport, width: int = 720, height: int = 240) -> dict:
    """Stacked bars per week, one colour per class, as coordinates for an inline SVG."""
    left, bottom, top_pad = 40, 28, 8
    plot_height = height - bottom - top_pad
    count = max(len(report.weeks), 1)
    slot = (width - left) / count
    bar = max(slot * 0.7, 2)
    peak = max([row.total for row in report.weeks] + [1])
    scale = plot_height / peak
    bars = []
    for i, row in enumerate(report.weeks):
        x = left + i * slot + (slot - bar) / 2
        y = top_pad + plot_height
        segments = []
        for j, value in enumerate(row.counts):
            if not value:
                continue
            h = value * scale
            y -= h
            segments.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "width": round(bar, 1),
                    "height": round(h, 1),
                    "colour": colour_for(report.classes[j], j),
                    "title": f"{row.key}: {short_name(report.classes[j])} {value}",
                }
            )
        label_every = max(1, count // 8)
        bars.append(
            {
                "segments": segments,
                "label": row.key[5:] if i % label_every == 0 else "",
                "label_x": round(x + bar / 2, 1),
                "total": row.total,
            }
        )
    ticks = [{"value": v, "y": round(top_pad + plot_height - v * scale, 1)} for v in _ticks(peak)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "baseline": top_pad + plot_height,
        "label_y": height - 8,
        "bars": bars,
        "ticks": ticks,
        "legend": [
            {"name": name, "display": short_name(name), "colour": colour_for(name, j)}
            for j, name in enumerate(report.classes)
        ],
    }


def _ticks(peak: int) -> list[int]:
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if peak / candidate <= 5:
            break
    return list(range(0, peak + 1, step))
