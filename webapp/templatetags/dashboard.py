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
