"""Languages for farmers: the language switch, the strings the page scripts show, and which
translations still await review by a native speaker (read from the .po files).

A translation is marked for review with the translator comment ``# review: awaiting native
speaker`` in its .po file; the reviewer deletes that line once the text is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

REVIEW_MARK = "review: awaiting native speaker"

# What upload.js and result.js show, sent inside the page as JSON (no extra request).
JS_STRINGS = {
    "preparing": _("Preparing photo…"),
    "sending": _("Sending photo…"),
    "waiting": _("No network. Your photo is saved on this phone and will be sent when the network returns."),
    "waitingShort": _("Waiting for network"),
    "looking": _("Looking at your leaf…"),
    "failed": _("Could not send"),
    "uploadFailed": _("Sending failed. Please try again."),
    "open": _("See the answer"),
    "unsure": _("We are not sure"),
    "officerWillLook": _("an officer will look"),
    "checked": _("Checked by an officer"),
}


def awaits_review(entry: polib.POEntry) -> bool:
    """Whether a translation carries the review mark in its translator comment."""
    return REVIEW_MARK in (entry.tcomment or "")


def read_catalogue(path: Path | str) -> list[polib.POEntry]:
    """The live entries of a .po file (obsolete ``#~`` entries left out)."""
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete]


def po_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


@dataclass
class LanguageReview:
    code: str
    name: str
    total: int
    translated: int
    awaiting_review: list[polib.POEntry]
    missing: list[polib.POEntry]

    @property
    def reviewed(self) -> int:
        return self.translated - len(self.awaiting_review)


def translation_review() -> list[LanguageReview]:
    """Per translated language: how many strings, how many translated, which await review."""
    report = []
    for code, _name in settings.LANGUAGES:
        path = po_path(code)
        if code == settings.LANGUAGE_CODE or not path.exists():
            continue
        entries = read_catalogue(path)
        usable = [entry for entry in entries if entry.translated()]  # polib: fuzzy is not translated
        report.append(
            LanguageReview(
                code=code,
                name=get_language_info(code)["name_local"],
                total=len(entries),
                translated=len(usable),
                awaiting_review=[entry for entry in usable if awaits_review(entry)],
                missing=[entry for entry in entries if not entry.translated()],
            )
        )
    return report
