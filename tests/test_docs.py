"""The README and the guides stay true: their links lead somewhere, the two commands are spelled as the
Makefile has them, every setting the code reads is in the operator's guide, and the farmer's guide speaks
the app's own words in each language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from webapp.i18n import read_catalogue

DOCS = REPO / "docs"
GUIDES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]  # the hand-written pages; reports are generated
LINK = re.compile(r"\]\(([^)\s]+)\)|<img src=\"([^\"]+)\"")
ANCHOR = re.compile(r"<a id=\"([^\"]+)\"></a>")


def prose_lines(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> set[str]:
    """What ``#...`` may point to in a Markdown file: explicit anchors and GitHub's heading slugs."""
    found = set()
    for line in prose_lines(path):
        found.update(ANCHOR.findall(line))
        if heading := re.match(r"#{1,6} (.+)", line):
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", GUIDES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_link_and_picture_leads_somewhere(page):
    broken = []
    for line in prose_lines(page):
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{target}: no such file")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{target}: no such heading or anchor")
    assert broken == []


def test_the_readme_gives_the_two_commands_as_the_makefile_has_them():
    readme = (REPO / "README.md").read_text()
    assert "make run     # sets everything up, then runs the app at http://127.0.0.1:8000\n" in readme
    assert "make test    # runs the whole test suite (installs what the tests need, chromium and nginx included)\n" in (
        readme
    )
    targets = re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert {"run", "test", "screenshots"} <= set(targets)


def settings_read_from_the_environment() -> set[str]:
    """Every variable the settings and ``runstack`` read."""
    sources = [REPO / "webapp" / "settings" / name for name in ("base.py", "production.py")]
    names = set()
    for source in sources:
        names.update(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", source.read_text()))
    runstack = (REPO / "webapp" / "management" / "commands" / "runstack.py").read_text()
    names.update(re.findall(r"os\.environ\.get\(\"([A-Z][A-Z0-9_]+)\"", runstack))
    return names


def test_every_setting_is_in_the_operators_guide():
    names = settings_read_from_the_environment()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_URL", "PORT"} <= names  # the search finds them
    rows = "\n".join(line for line in prose_lines(DOCS / "operators.md") if line.startswith("| `"))
    assert sorted(name for name in names if f"`{name}`" not in rows) == []


def catalogue_patterns(language: str) -> list[re.Pattern]:
    """The app's sentences in ``language`` (``en``: the msgids), each a pattern its placeholders fill."""
    entries = read_catalogue(REPO / "locale" / ("cgg" if language == "en" else language) / "LC_MESSAGES" / "django.po")
    texts = {entry.msgid if language == "en" else entry.msgstr for entry in entries} - {""}
    patterns = []
    for text in texts:
        pattern = re.escape(text.replace("%%", "%"))
        patterns.append(re.compile(re.sub(r"%\\\(\w+\\\)s", ".+?", pattern)))
    return patterns


def guide_section(language: str) -> list[str]:
    """The farmer's guide in one language: the lines under its heading, up to the next language (for English,
    up to its notes in more words)."""
    text = (DOCS / "farmers.md").read_text()
    start = {"en": '<a id="english"></a>', "cgg": '<a id="rukiga"></a>', "rw": '<a id="kinyarwanda"></a>'}[language]
    section = text.split(start, 1)[1]
    for end in ('<a id="', "### What the answers mean, in more words"):
        section = section.split(end, 1)[0]
    return [line for line in section.splitlines() if line.strip() and not line.startswith("## ")]


@pytest.mark.parametrize("language", ["en", "cgg", "rw"])
def test_the_farmers_guide_uses_the_apps_own_sentences(language):
    """A Rukiga or Kinyarwanda sentence here is one the app shows (all drafts awaiting a native speaker): a
    correction made in locale/ must be made here too, and no sentence is made up for the guide alone."""
    patterns = catalogue_patterns(language)
    lines = guide_section(language)
    assert len(lines) > 25
    unknown = []
    for line in lines:
        plain = re.sub(r"^(#+ |- |\d+\. )", "", line).replace("**", "").replace("`", "")
        for segment in re.split(r" — | / ", plain):
            if not any(pattern.fullmatch(segment.strip()) for pattern in patterns):
                unknown.append(segment)
    assert unknown == []
