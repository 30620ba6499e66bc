"""Languages: English by default, Rukiga (cgg) and Kinyarwanda (rw) by ?lang=, cookie or
Accept-Language; every farmer-facing string translated; the officers' review page."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import templatize

from tests.images import jpeg_bytes
from webapp.i18n import REVIEW_MARK, awaits_review, read_catalogue, translation_review

REPO = Path(__file__).resolve().parent.parent
TRANSLATED = ["cgg", "rw"]
# Everything a farmer can see: the pages, form and photo messages, advice, the page scripts' strings.
FARMER_TEMPLATES = [
    "templates/base.html",
    "templates/404.html",
    "templates/503.html",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "templates" / "farmer").glob("*.html")),
]
FARMER_PYTHON = [
    "webapp/farmer/forms.py",
    "webapp/i18n.py",
    "webapp/farmer/presenters.py",
    "webapp/farmer/api.py",
    "webapp/farmer/views.py",
    "webapp/farmer/pwa.py",
    "classifier/sms/messages.py",
    "classifier/advice/defaults.py",
    "classifier/validators.py",
]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy"}

ENGLISH_TITLE = "Is my potato leaf sick?"
RUKIGA_TITLE = "Ekibabi ky'ekiraaya kyangye nikirwaire?"
KINYARWANDA_TITLE = "Ese ikibabi cy'ikirayi cyanjye kirarwaye?"


# -- extracting msgids the way makemessages does, without needing GNU gettext ---------------------


def template_msgids(path: Path) -> set[str]:
    """The msgids of a Django template: templatize() turns it into gettext() calls."""
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    for match in re.finditer(r"\b(?:gettext|pgettext)\((?:u?'(?:[^'\\]|\\.)*',\s*)?u?('(?:[^'\\]|\\.)*')\)", source):
        found.add(ast.literal_eval(match.group(1)))
    return found


def python_msgids(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES or not node.args:
            continue
        argument = node.args[-1] if name.startswith("pgettext") else node.args[0]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def farmer_msgids() -> set[str]:
    msgids = set()
    for name in FARMER_TEMPLATES:
        msgids |= template_msgids(REPO / name)
    for name in FARMER_PYTHON:
        msgids |= python_msgids(REPO / name)
    return msgids


def catalog(language: str) -> dict:
    return {entry.msgid: entry for entry in read_catalogue(REPO / "locale" / language / "LC_MESSAGES" / "django.po")}


def test_extraction_finds_the_farmer_strings():
    msgids = farmer_msgids()
    for expected in [
        ENGLISH_TITLE,
        "We are %(percent)s%% sure.",  # blocktranslate
        "Please choose or take a photo of a potato leaf.",  # a form message
        "The file is empty. Please take the photo again.",  # a photo check
        "Remove and bury (do not compost) the sick leaves and plants today.",  # advice
        "Waiting for network",  # the offline state
        "No network. Your photo is saved on this phone and will be sent when the network returns.",  # JS
    ]:
        assert expected in msgids
    assert len(msgids) >= 80


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_farmer_string_is_translated(language):
    entries = catalog(language)
    missing = sorted(msgid for msgid in farmer_msgids() if msgid not in entries)
    untranslated = sorted(msgid for msgid, entry in entries.items() if not entry.translated())
    assert not missing, f"not in locale/{language}/…/django.po (run `make messages`): {missing}"
    assert not untranslated, f"no {language} translation (or fuzzy): {untranslated}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    for msgid, entry in catalog(language).items():
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", entry.msgstr)), msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalog_matches_the_po_file(language):
    """The committed .mo is what Django reads: it must say what the .po says."""
    directory = REPO / "locale" / language / "LC_MESSAGES"
    with open(directory / "django.mo", "rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    for msgid, entry in catalog(language).items():
        assert compiled.gettext(msgid) == entry.msgstr, f"{msgid!r}: run `make messages` to compile"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_is_marked_for_native_review(language):
    # Drafts written without a native speaker: the marks come off one by one as they are checked.
    entries = catalog(language)
    assert all(awaits_review(entry) for entry in entries.values())


# -- choosing the language -----------------------------------------------------------------------


@pytest.mark.django_db
def test_english_is_the_default(client):
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and ENGLISH_TITLE in html


@pytest.mark.django_db
def test_query_parameter_chooses_and_remembers_the_language(client):
    response = client.get("/?lang=cgg")
    assert RUKIGA_TITLE in response.content.decode()
    assert '<html lang="cgg">' in response.content.decode()
    assert response.cookies["lang"].value == "cgg"
    assert response["Content-Language"] == "cgg"
    # The cookie remembers it: the next page, without ?lang=, is still in Rukiga.
    assert RUKIGA_TITLE in client.get("/").content.decode()
    # A query beats the cookie, and changes it.
    response = client.get("/?lang=en")
    assert ENGLISH_TITLE in response.content.decode() and response.cookies["lang"].value == "en"


@pytest.mark.django_db
def test_cookie_chooses_the_language(client):
    client.cookies["lang"] = "rw"
    assert KINYARWANDA_TITLE in client.get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "title"),
    [
        ("cgg", RUKIGA_TITLE),
        ("rw-RW,rw;q=0.9,en;q=0.5", KINYARWANDA_TITLE),
        ("fr-FR,fr;q=0.9", ENGLISH_TITLE),
        ("sw,cgg;q=0.8", RUKIGA_TITLE),
    ],
)
def test_accept_language_chooses_the_language(client, accept, title):
    response = client.get("/", headers={"accept-language": accept})
    assert title in response.content.decode()
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_unknown_language_is_ignored(client):
    response = client.get("/?lang=xx")
    assert ENGLISH_TITLE in response.content.decode()
    assert "lang" not in response.cookies


@pytest.mark.django_db
def test_language_switch_links_every_language_and_marks_the_current_one(client):
    html = client.get("/s/00000000-0000-0000-0000-000000000000/?lang=cgg").content.decode()  # the 404 page too
    assert 'href="?lang=en"' in html and 'href="?lang=rw"' in html
    assert 'href="?lang=cgg" hreflang="cgg" lang="cgg" aria-current="true">Rukiga<' in html
    assert "Orupapura tirurikuboneka" in html  # "Page not found"


@pytest.mark.django_db
def test_refusals_are_in_the_farmers_language(client):
    client.cookies["lang"] = "cgg"
    response = client.post("/api/v1/submissions", {"image": SimpleUploadedFile("x.jpg", b"", "image/jpeg")})
    assert response.status_code == 400
    assert response.json()["error"].startswith("Efaire egi tegiriimu kantu")
    page = client.post("/", {"image": SimpleUploadedFile("x.jpg", jpeg_bytes()), "district": "nairobi"})
    assert "Disitrikiti etarikumanyika" in page.content.decode()
    assert "Endiijo" in client.get("/").content.decode()  # the district "Other"


@pytest.mark.django_db
def test_page_scripts_get_their_strings_in_the_page(client):
    html = client.get("/?lang=cgg").content.decode()
    assert '<script id="js-strings" type="application/json">' in html
    assert "Tihariho netiweeki" in html  # "No network…", shown by upload.js


# -- the officers' review page -------------------------------------------------------------------


def test_review_report_counts_what_awaits_review():
    report = {language.code: language for language in translation_review()}
    assert set(report) == {"cgg", "rw"}
    rukiga = report["cgg"]
    assert rukiga.total == rukiga.translated == len(rukiga.awaiting_review) >= 80
    assert rukiga.missing == [] and rukiga.reviewed == 0


@pytest.mark.django_db
def test_review_page_is_for_staff_and_officers(client):
    url = "/dashboard/translations/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    farmer = User.objects.create_user("farmer", password="x")
    client.force_login(farmer)
    assert client.get(url).status_code == 403
    officer = User.objects.create_user("officer", password="x")
    officer.groups.add(Group.objects.get_or_create(name="officers")[0])
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "await review" in html and "Rukiga" in html and "Ikinyarwanda" in html
    assert "Ekibabi ky&#x27;ekiraaya kyangye nikirwaire?" in html
    assert "Advice awaiting review" in html and "late_blight (cgg)" in html


def test_the_review_counts_fuzzy_and_untranslated_as_missing(tmp_path, settings):
    po = tmp_path / "cgg" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        "\n".join(
            [
                'msgid ""',
                'msgstr ""',
                '"Language: cgg\\n"',
                '"Content-Type: text/plain; charset=UTF-8\\n"',
                "",
                f"# {REVIEW_MARK}",
                "#: a.py",
                "#, python-format",
                'msgid ""',
                '"Two %(n)s "',
                '"lines"',
                'msgstr "Ibiri %(n)s"',
                "",
                "#, fuzzy",
                'msgid "Guess"',
                'msgstr "Maybe"',
                "",
                'msgid "One"',
                'msgid_plural "Many"',
                'msgstr[0] "Kimwe"',
                'msgstr[1] ""',
                "",
                '#~ msgid "Old"',
                '#~ msgstr "Kikuru"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    settings.LOCALE_PATHS = [tmp_path]
    (rukiga,) = [language for language in translation_review() if language.code == "cgg"]
    assert (rukiga.total, rukiga.translated, rukiga.reviewed) == (3, 1, 0)
    assert [entry.msgid for entry in rukiga.awaiting_review] == ["Two %(n)s lines"]
    assert awaits_review(rukiga.awaiting_review[0])
    assert sorted(entry.msgid for entry in rukiga.missing) == ["Guess", "One"]
