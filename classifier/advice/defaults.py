"""What a farmer should do, per answer: the defaults in the code, each step with its source.

Admins edit the advice farmers see in the admin (``classifier.models.Advice``, seeded from these
defaults by migration 0002, and 0006 for bacterial wilt); these defaults are the fallback when no
row exists for a label and language. Labels without an entry get the general advice.

Sources: the International Potato Center (CIP) guidance on late blight and integrated disease
management; CABI Plantwise factsheets for farmers (late blight, early blight, bacterial wilt);
Uganda's Ministry of Agriculture (MAAIF) potato production guidance; NARO's Kachwekano institute
in Kabale (potato varieties for Kigezi).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from classifier.classes import NOT_POTATO_LEAF

UNSURE = "unsure"
GENERAL = "general"
#: The "one of two" answer (``classifier.decision.BLIGHT_PAIR``): advice right for both blights.
EARLY_OR_LATE_BLIGHT = "early_or_late_blight"
#: The checks a farmer can do herself (issue 24, item 4): the question (title), what to do (summary) and
#: what to look for (steps, each with its source), kept in the same table as the advice.
CHECK_BLIGHT = "check_blight"
CHECK_WILT = "check_wilt"

CIP_LATE_BLIGHT = _("CIP, late blight management guidance")
PLANTWISE_LATE_BLIGHT = _("CABI Plantwise factsheet for farmers: potato late blight")
PLANTWISE_EARLY_BLIGHT = _("CABI Plantwise factsheet for farmers: early blight of potato")
PLANTWISE_BACTERIAL_WILT = _("CABI Plantwise factsheet for farmers: bacterial wilt of potato")
MAAIF_POTATO = _("MAAIF (Uganda), potato production guidance")
CIP_IDM = _("CIP, integrated disease management for potato")
NARO_KACHWEKANO = _("NARO Kachwekano institute, Kabale: potato varieties for Kigezi")
PESTICIDE_LABEL = _("The fungicide's label; MAAIF guidance on safe use of pesticides")
PHOTO_GUIDE = _("Potato leaf doctor: how to take a photo the model can read")
EXTENSION = _("MAAIF (Uganda), agricultural extension service")


@dataclass(frozen=True)
class Step:
    text: str
    source: str = ""


@dataclass(frozen=True)
class AdviceText:
    title: str
    summary: str
    steps: list[Step] = field(default_factory=list)


ADVICE = {
    "late_blight": AdviceText(
        _("Late blight"),
        _("A fast-spreading disease. It can destroy a whole garden within a week in wet weather."),
        [
            Step(_("Remove and bury (do not compost) the sick leaves and plants today."), PLANTWISE_LATE_BLIGHT),
            Step(
                _(
                    "Spray a fungicide with mancozeb, or metalaxyl plus mancozeb, "
                    "every 7 days while the weather is wet."
                ),
                CIP_LATE_BLIGHT,
            ),
            Step(
                _("When you spray, wear gloves and cover your nose and mouth; follow the dose on the label."),
                PESTICIDE_LABEL,
            ),
            Step(_("Do not leave infected plants or cull potatoes near the garden."), CIP_LATE_BLIGHT),
            Step(
                _("Next season plant certified seed of a tolerant variety (for example Victoria or Rwangume)."),
                NARO_KACHWEKANO,
            ),
        ],
    ),
    "early_blight": AdviceText(
        _("Early blight"),
        _("A slower disease that starts on old, low leaves with brown rings like a target."),
        [
            Step(_("Pick off the lowest affected leaves and bury them."), PLANTWISE_EARLY_BLIGHT),
            Step(_("Spray mancozeb or a copper fungicide if it spreads to upper leaves."), PLANTWISE_EARLY_BLIGHT),
            Step(_("Keep plants well fed (manure, NPK): weak plants suffer more."), MAAIF_POTATO),
            Step(_("Rotate: do not plant potatoes or tomatoes in the same place next season."), MAAIF_POTATO),
        ],
    ),
    # Ralstonia solanacearum: no spray cures it, so no step names one (tests/test_advice_bacterial_wilt.py).
    "bacterial_wilt": AdviceText(
        _("Bacterial wilt"),
        _("The most damaging bacterial disease of potato in Kigezi. No spray can cure it."),
        [
            Step(
                _("Uproot each wilted plant with the soil around its roots, and carry it out of the field."),
                PLANTWISE_BACTERIAL_WILT,
            ),
            Step(
                _("Bury or burn the plants far from water. Never compost them or feed them to animals."),
                PLANTWISE_BACTERIAL_WILT,
            ),
            Step(
                _(
                    "Do not plant potato, tomato, eggplant or pepper in this field for at least 2 to 3 seasons. "
                    "Grow cereals or beans there instead."
                ),
                CIP_IDM,
            ),
            Step(
                _(
                    "Plant only clean seed: certified seed, or seed from healthy plants you marked. "
                    "Never take seed from a field with wilt."
                ),
                CIP_IDM,
            ),
            Step(
                _("Clean your hoes and tools after this field. Do not let water run from it into other fields."),
                MAAIF_POTATO,
            ),
            Step(
                _(
                    "To check, cut a stem near the soil and put it in a glass of clear water. "
                    "Milky threads coming out mean bacterial wilt."
                ),
                PLANTWISE_BACTERIAL_WILT,
            ),
            Step(_("Tell your extension officer, so that your neighbours can protect their fields."), EXTENSION),
        ],
    ),
    "healthy": AdviceText(
        _("Healthy leaf"),
        _("We see no disease on this leaf."),
        [
            Step(_("Keep checking your garden twice a week, most of all in rainy weeks."), CIP_IDM),
            Step(_("Look under the leaves and at the lowest leaves, where disease starts."), CIP_IDM),
            Step(
                _("In long rainy spells, a protective spray of mancozeb stops late blight before it starts."),
                CIP_LATE_BLIGHT,
            ),
        ],
    ),
    NOT_POTATO_LEAF: AdviceText(
        _("This does not look like a potato leaf"),
        _("We could not find a potato leaf in this photo."),
        [
            Step(_("Photograph one potato leaf, close up, filling most of the photo."), PHOTO_GUIDE),
            Step(_("Take the photo in daylight, without strong shadow."), PHOTO_GUIDE),
        ],
    ),
    UNSURE: AdviceText(
        _("We are not sure"),
        _("We are not sure what this is. An extension officer will look at your photo."),
        [
            Step(_("Take another photo: one leaf, close up, in daylight, in focus."), PHOTO_GUIDE),
            Step(_("Photograph a leaf that shows the spots clearly."), PHOTO_GUIDE),
            Step(_("If many plants are sick, contact your extension officer now."), EXTENSION),
        ],
    ),
    EARLY_OR_LATE_BLIGHT: AdviceText(
        _("Leaf blight: early or late"),
        _("Your leaves show leaf blight, early or late. The same spray works for both: start now."),
        [
            Step(
                _("Spray mancozeb now, and every 7 days while the weather is wet: it works on both blights."),
                CIP_LATE_BLIGHT,
            ),
            Step(_("Remove and bury (do not compost) the sick leaves and plants today."), PLANTWISE_LATE_BLIGHT),
            Step(
                _("When you spray, wear gloves and cover your nose and mouth; follow the dose on the label."),
                PESTICIDE_LABEL,
            ),
        ],
    ),
    CHECK_BLIGHT: AdviceText(
        _("Late or early blight? Check a sick leaf"),
        _("Look at a sick leaf in the morning. Is there white mould under it, or dark, wet-looking patches?"),
        [
            Step(
                _(
                    "Late blight: dark, water-soaked patches, often from the leaf edge, and white mould "
                    "under the leaf on damp mornings."
                ),
                PLANTWISE_LATE_BLIGHT,
            ),
            Step(
                _("Early blight: dry brown spots with rings like a target and a yellow edge, on old leaves first."),
                PLANTWISE_EARLY_BLIGHT,
            ),
        ],
    ),
    CHECK_WILT: AdviceText(
        _("Bacterial wilt? Check a stem"),
        _("Cut a stem near the soil and put it in a glass of clear water. Do milky threads come out?"),
        [
            Step(
                _("Milky threads streaming from the cut stem within a few minutes mean bacterial wilt."),
                PLANTWISE_BACTERIAL_WILT,
            ),
        ],
    ),
    GENERAL: AdviceText(
        _("Diagnosis"),
        _("An extension officer can tell you more about this problem."),
        [Step(_("Contact your sub-county extension officer for advice."), EXTENSION)],
    ),
}

#: Per check: the answers it applies to, and which advice each of the farmer's answers shows (None: the
#: answer's own advice). The farmer's answer picks the advice branch; it never changes the model's label.
FIELD_CHECKS = {
    "blight": {
        "advice": CHECK_BLIGHT,
        "labels": {"late_blight", "early_blight"},
        # "No white mould" is weak evidence: the answer's own advice stays (spray now, safe for both blights).
        "branches": {"yes": "late_blight", "no": None, "cant_tell": None},
    },
    "wilt": {
        "advice": CHECK_WILT,
        "labels": {"bacterial_wilt"},
        "branches": {"yes": "bacterial_wilt", "no": GENERAL, "cant_tell": None},
    },
}
#: Not answers a model gives: never shown as a diagnosis's name.
NOT_ANSWERS = {UNSURE, GENERAL, CHECK_BLIGHT, CHECK_WILT}


def field_check_for(answer_labels: list[str] | tuple[str, ...]) -> str:
    """The check a farmer is offered for an answer's labels ("" for none)."""
    for name, check in FIELD_CHECKS.items():
        if set(answer_labels) & check["labels"]:
            return name
    return ""


# The answers a farmer can get, in the order the admin lists them.
ADVICE_KEYS = list(ADVICE)


def advice_key(label: str, is_unsure: bool) -> str:
    """Which advice an answer gets: 'unsure' when the model is not sure, else its label."""
    if is_unsure:
        return UNSURE
    return label if label in ADVICE else GENERAL


def default_advice_rows() -> list[dict]:
    """The defaults as plain data in the active language (seeds the ``Advice`` table)."""
    return [
        {
            "label": key,
            "title": str(advice.title),
            "summary": str(advice.summary),
            "steps": [{"text": str(step.text), "source": str(step.source)} for step in advice.steps],
        }
        for key, advice in ADVICE.items()
    ]


def display_name(label: str) -> str:
    """'late_blight' -> 'Late blight'; labels are data, so unknown ones still read well."""
    advice = ADVICE.get(label)
    if advice is not None and label not in NOT_ANSWERS:
        return str(advice.title)
    return label.replace("_", " ").strip().capitalize()
