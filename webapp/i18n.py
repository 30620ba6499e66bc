"""Languages for farmers: the language switch, the strings the page scripts show, and which
translations still await review by a native speaker (read from the .po files).

A translation is marked for review with the translator comment ``# review: awaiting native
speaker`` in its .po file; the reviewer deletes that line once the text is checked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class PoEntry:
    msgid: str
    msgstr: str = ""
    msgid_plural: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    msgctxt: str | None = None
    comments: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        if self.msgid_plural:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def awaits_review(self) -> bool:
        return any(REVIEW_MARK in comment for comment in self.comments)


def _unquote(token: str) -> str:
    return ast.literal_eval(token.strip())


def read_po(path: Path | str) -> list[PoEntry]:
    """The entries of a .po file (the header entry, with an empty msgid, left out).

    Reads what ``makemessages`` writes: translator comments, flags, references, msgctxt, msgid,
    msgid_plural, msgstr and msgstr[n], continuation lines, and obsolete (``#~``) entries.
    """
    entries: list[PoEntry] = []
    entry = PoEntry(msgid="")
    seen: set[str] = set()  # the keywords met in the current entry
    target: tuple[str, int | None] = ("msgid", None)

    def finish() -> None:
        nonlocal entry, seen
        if entry.msgid:
            entries.append(entry)
        entry, seen = PoEntry(msgid=""), set()

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            if not obsolete:
                finish()
            continue
        if line.startswith("#"):
            if seen:
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            elif line.startswith("#:"):
                entry.references.extend(line[2:].split())
            elif not line.startswith(("#.", "#|")):
                entry.comments.append(line[1:].strip())
            continue
        if line.startswith('"'):
            _append(entry, target, _unquote(line))
            continue
        keyword, _sep, rest = line.partition(" ")
        if keyword in {"msgctxt", "msgid"} and (seen & {"msgstr"}):
            finish()
        entry.obsolete = entry.obsolete or obsolete
        index = None
        if keyword.startswith("msgstr["):
            keyword, index = "msgstr_plural", int(keyword[7:-1])
            entry.msgstr_plural[index] = ""
        seen.add("msgstr" if keyword.startswith("msgstr") else keyword)
        target = (keyword, index)
        _append(entry, target, _unquote(rest))
    finish()
    return entries


def _append(entry: PoEntry, target: tuple[str, int | None], text: str) -> None:
    name, index = target
    if name == "msgstr_plural":
        entry.msgstr_plural[index] = entry.msgstr_plural.get(index, "") + text
    elif name == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    else:
        setattr(entry, name, getattr(entry, name) + text)


def po_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


@dataclass
class LanguageReview:
    code: str
    name: str
    total: int
    translated: int
    awaiting_review: list[PoEntry]
    missing: list[PoEntry]

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
        entries = [entry for entry in read_po(path) if not entry.obsolete]
        usable = [entry for entry in entries if entry.translated and not entry.fuzzy]
        report.append(
            LanguageReview(
                code=code,
                name=get_language_info(code)["name_local"],
                total=len(entries),
                translated=len(usable),
                awaiting_review=[entry for entry in usable if entry.awaits_review],
                missing=[entry for entry in entries if not entry.translated or entry.fuzzy],
            )
        )
    return report
