"""What a farmer should do, per answer. Labels without an entry get the general advice.

Sources: Uganda's Ministry of Agriculture (MAAIF) and the International Potato Center (CIP)
guides for potato growers in East Africa; Plantwise factsheets for farmers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Advice:
    title: str
    summary: str
    steps: list[str] = field(default_factory=list)
    source: str = ""


ADVICE = {
    "late_blight": Advice(
        _("Late blight"),
        _("A fast-spreading disease. It can destroy a whole garden within a week in wet weather."),
        [
            _("Remove and bury (do not compost) the sick leaves and plants today."),
            _("Spray a fungicide with mancozeb, or metalaxyl plus mancozeb, every 7 days while the weather is wet."),
            _("Do not leave infected plants or cull potatoes near the garden."),
            _("Next season plant certified seed of a tolerant variety (for example Victoria or Rwangume)."),
        ],
        _("CIP and MAAIF late blight guidance; Plantwise factsheet 'Potato late blight'"),
    ),
    "early_blight": Advice(
        _("Early blight"),
        _("A slower disease that starts on old, low leaves with brown rings like a target."),
        [
            _("Pick off the lowest affected leaves and bury them."),
            _("Spray mancozeb or a copper fungicide if it spreads to upper leaves."),
            _("Keep plants well fed (manure, NPK): weak plants suffer more."),
            _("Rotate: do not plant potatoes or tomatoes in the same place next season."),
        ],
        _("Plantwise factsheet 'Early blight of potato'; MAAIF potato production guide"),
    ),
    "healthy": Advice(
        _("Healthy leaf"),
        _("We see no disease on this leaf."),
        [
            _("Keep checking your garden twice a week, most of all in rainy weeks."),
            _("Look under the leaves and at the lowest leaves, where disease starts."),
        ],
        _("CIP integrated disease management for potato"),
    ),
    "not_potato_leaf": Advice(
        _("This does not look like a potato leaf"),
        _("We could not find a potato leaf in this photo."),
        [
            _("Photograph one potato leaf, close up, filling most of the photo."),
            _("Take the photo in daylight, without strong shadow."),
        ],
    ),
}

UNSURE_ADVICE = Advice(
    _("We are not sure"),
    _("We are not sure what this is. An extension officer will look at your photo."),
    [
        _("Take another photo: one leaf, close up, in daylight, in focus."),
        _("Photograph a leaf that shows the spots clearly."),
        _("If many plants are sick, contact your extension officer now."),
    ],
)

GENERAL_ADVICE = Advice(
    _("Diagnosis"),
    _("An extension officer can tell you more about this problem."),
    [_("Contact your sub-county extension officer for advice.")],
)


def advice_for(label: str, is_unsure: bool) -> Advice:
    if is_unsure:
        return UNSURE_ADVICE
    return ADVICE.get(label, GENERAL_ADVICE)


def display_name(label: str) -> str:
    """'late_blight' -> 'Late blight'; labels are data, so unknown ones still read well."""
    advice = ADVICE.get(label)
    if advice is not None:
        return str(advice.title)
    return label.replace("_", " ").strip().capitalize()
