"""Template filters that format measured numbers for the reports in ``templates/reports/``.

The numbers are computed elsewhere (:mod:`training.study.numbers`); these only turn them into
text: a mean ± std as a percentage, a duration, a fraction as a percentage, a Markdown cell.
"""

from __future__ import annotations

from django import template

register = template.Library()
MISSING = "–"


@register.filter
def num(summary: dict | None, digits: int = 3, scale: float = 1) -> str:
    """'0.123 ± 0.004' from a mean_std (the spread only when there is more than one fold)."""
    if not summary or summary.get("mean") is None:
        return MISSING
    text = f"{scale * summary['mean']:.{digits}f}"
    if summary.get("n", 0) > 1:
        text += f" ± {scale * summary['std']:.{digits}f}"
    return text


@register.filter
def pct(summary: dict | None, digits: int = 1) -> str:
    """'97.3 ± 1.2' from a mean_std of fractions."""
    return num(summary, digits, scale=100)


@register.filter
def percent(fraction: float | None, digits: int = 1) -> str:
    """'97.3' from 0.973."""
    return MISSING if fraction is None else f"{100 * fraction:.{digits}f}"


@register.filter
def pair(values) -> str:
    """The paper's 'train / test' pair."""
    return f"{values[0]} / {values[1]}" if values else MISSING


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return MISSING
    value = float(value)
    if value >= 3600:
        return f"{value / 3600:.2f} h"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s"


@register.filter
def thousands(value: int) -> str:
    return f"{value:,}"


@register.filter
def sig(value: float, digits: int = 3) -> str:
    """A learning rate and the like: '0.0001', '3.16e-05'."""
    return f"{float(value):.{digits}g}"


@register.filter
def get(mapping: dict | None, key):
    """``mapping[key]`` for a key held in a variable (Django's dot lookup takes literal keys only)."""
    return (mapping or {}).get(key)


@register.filter
def layer_label(layers) -> str:
    # Imported here: Django imports every tag library when a page first renders, and the web
    # process has no use for the study's numerical code.
    from training.study.numbers import LAYER_LABELS

    return LAYER_LABELS.get(str(layers), str(layers))


@register.filter
def shares(fractions: dict) -> str:
    """'early_blight 12.0%, healthy 3.5%' from {name: fraction}, skipping the missing ones."""
    return ", ".join(f"{name} {100 * value:.1f}%" for name, value in fractions.items() if value is not None)


@register.filter
def codes(names) -> str:
    """'`a`, `b`'."""
    return ", ".join(f"`{name}`" for name in names)


@register.filter
def text(value) -> str:
    """A list joined with commas; anything else as it is."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


@register.filter
def cell(value) -> str:
    """A Markdown table cell: a '|' in the text must not end the cell."""
    return str(value).replace("|", "\\|")


@register.filter
def fixed(value: float, digits: int = 1) -> str:
    return f"{float(value):.{digits}f}"


@register.filter
def signed_percent(fraction: float, digits: int = 1) -> str:
    """'+3.2' from 0.032: a difference in percentage points."""
    return f"{100 * fraction:+.{digits}f}"


@register.filter
def pct_spread(summary: dict | None, digits: int = 1) -> str:
    """'53.6 ± 4.5' from {"mean", "std"} fractions over repeats of a protocol; '53.6' from one repeat
    (its spread unknown, not zero)."""
    if not summary:
        return MISSING
    text = f"{100 * summary['mean']:.{digits}f}"
    measured_once = len(summary.get("values", ())) == 1
    return text if measured_once else f"{text} ± {100 * summary['std']:.{digits}f}"


@register.filter
def words(name: str) -> str:
    """'confidently wrong' from 'confidently_wrong'."""
    return name.replace("_", " ")


@register.filter
def kb(sizes: dict | None) -> str:
    """'28.1 (28.0)': mean (median) KB from ``training.field.served_views.sent_bytes``."""
    return MISSING if not sizes else f"{sizes['mean_kb']:.1f} ({sizes['median_kb']:.1f})"


@register.filter
def megabytes(value: int | None) -> str:
    """'2.61' from 2_610_000 bytes."""
    return MISSING if value is None else f"{value / 1e6:.2f}"
