"""Template filters for the dashboard: short display names of classes."""

from django import template

from webapp.dashboard.presenters import short_name

register = template.Library()


@register.filter
def label_name(value: str) -> str:
    """'late_blight' -> 'Late blight'; 'not_potato_leaf' -> 'Not a potato leaf'."""
    return short_name(value) if value else ""


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


@register.filter
def evidence_names(codes) -> str:
    """["lab_test", "white_mould"] -> "Lab test, White mould seen under the leaves"."""
    from classifier.models import Evidence

    names = dict(Evidence.choices)
    return ", ".join(str(names.get(code, code)) for code in codes or ())
