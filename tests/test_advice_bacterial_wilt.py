"""Bacterial wilt, the fourth potato answer: advice in every language (seeded by 0002 on a new
database, by 0006 on an existing one), shown on the result page, and never a spray."""

from __future__ import annotations

import html
import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from classifier.advice import selectors as advice_selectors
from classifier.advice.defaults import ADVICE, ADVICE_KEYS, PLANTWISE_BACTERIAL_WILT, display_name
from classifier.models import Advice, AdviceStep
from tests.test_reach_advice import diagnosed
from webapp.dashboard.presenters import FIXED_COLOURS, colour_for, short_name

pytestmark = pytest.mark.django_db

LABEL = "bacterial_wilt"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# Words that would mean "spray it" or name a spray, in each language's advice.
SPRAY_WORDS = {
    "en": ["spray", "fungicide", "pesticide", "bactericide", "mancozeb", "metalaxyl", "copper", "chemical"],
    "cgg": ["teera", "mubazi", "mancozeb", "copper"],
    "rw": ["umuti", "imiti", "mancozeb", "copper"],
}
migration = importlib.import_module("classifier.migrations.0006_bacterial_wilt_advice")


def page(client, submission, language: str) -> str:
    return html.unescape(client.get(f"/s/{submission.id}/?lang={language}").content.decode())


def test_it_is_a_potato_answer_with_sourced_steps():
    assert LABEL in ADVICE_KEYS
    advice = ADVICE[LABEL]
    assert str(advice.title) == "Bacterial wilt" and "No spray can cure it" in str(advice.summary)
    assert len(advice.steps) >= 5 and all(step.source for step in advice.steps)
    assert str(PLANTWISE_BACTERIAL_WILT) in {str(step.source) for step in advice.steps}


def test_migrations_seed_it_in_every_language():
    assert set(LANGUAGES) == {"en", "cgg", "rw"}
    for language in LANGUAGES:
        row = Advice.objects.get(label=LABEL, language=language)
        assert row.needs_review == (language != settings.LANGUAGE_CODE)
        steps = list(row.steps.all())
        assert len(steps) == len(ADVICE[LABEL].steps)
        assert all(step.text and step.source for step in steps), "every recommendation names its source"
        with translation.override(language):
            assert row.title == str(ADVICE[LABEL].title)
            assert [step.text for step in steps] == [str(step.text) for step in ADVICE[LABEL].steps]


def test_the_title_is_translated():
    titles = {language: Advice.objects.get(label=LABEL, language=language).title for language in LANGUAGES}
    assert titles["en"] == "Bacterial wilt"
    assert titles["cgg"].startswith("Bacterial wilt (endwara")
    assert titles["rw"] == "Kirabiranya (bacterial wilt)"
    english_summary = str(ADVICE[LABEL].summary)
    for language in ("cgg", "rw"):
        with translation.override(language):
            assert display_name(LABEL) == titles[language]
            assert str(ADVICE[LABEL].summary) != english_summary


def test_migration_0006_adds_only_the_missing_rows_and_its_reverse_removes_them():
    Advice.objects.filter(label=LABEL, language="rw").delete()  # a database from before bacterial wilt had advice
    Advice.objects.filter(label=LABEL, language="en").update(title="Bacterial wilt (edited by an admin)")

    migration.seed_missing_advice(apps, None)
    rw = Advice.objects.get(label=LABEL, language="rw")
    assert rw.needs_review and rw.title == "Kirabiranya (bacterial wilt)"
    assert rw.steps.count() == len(ADVICE[LABEL].steps)
    assert Advice.objects.get(label=LABEL, language="en").title == "Bacterial wilt (edited by an admin)"
    assert Advice.objects.filter(label=LABEL).count() == len(LANGUAGES)
    migration.seed_missing_advice(apps, None)  # twice changes nothing
    assert AdviceStep.objects.filter(advice__label=LABEL).count() == len(LANGUAGES) * len(ADVICE[LABEL].steps)

    others = Advice.objects.exclude(label=LABEL).count()
    migration.remove_bacterial_wilt_advice(apps, None)
    assert not Advice.objects.filter(label=LABEL).exists()
    assert Advice.objects.count() == others > 0


def test_result_page_shows_the_advice(client, active_model):
    submission = diagnosed(active_model, label=LABEL, confidence=0.9)
    english = page(client, submission, "en")
    assert '<h1 id="diagnosis">Bacterial wilt</h1>' in english
    assert "No spray can cure it." in english
    assert "Uproot each wilted plant with the soil around its roots" in english
    assert "Milky threads coming out mean bacterial wilt." in english
    assert "Source: CABI Plantwise factsheet for farmers: bacterial wilt of potato" in english

    rukiga = page(client, submission, "cgg")
    assert Advice.objects.get(label=LABEL, language="cgg").title in rukiga
    assert "Kuura buri kimera ekihotokire" in rukiga
    kinyarwanda = page(client, submission, "rw")
    assert '<h1 id="diagnosis">Kirabiranya (bacterial wilt)</h1>' in kinyarwanda
    assert "Randura buri kimera cyarabye" in kinyarwanda


def test_result_page_falls_back_to_the_code_default(client, active_model):
    Advice.objects.filter(label=LABEL).delete()
    submission = diagnosed(active_model, label=LABEL)
    kinyarwanda = page(client, submission, "rw")
    assert '<h1 id="diagnosis">Kirabiranya (bacterial wilt)</h1>' in kinyarwanda
    assert "CABI Plantwise, urupapuro rw'abahinzi: kirabiranya y'ibirayi" in kinyarwanda


def test_an_unsure_answer_still_gets_the_unsure_advice(client, active_model):
    submission = diagnosed(active_model, label=LABEL, confidence=0.4, is_unsure=True)
    assert '<h1 id="diagnosis">We are not sure</h1>' in page(client, submission, "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_steps_never_recommend_a_spray(language):
    row = advice_selectors.advice_for(LABEL, False, language)
    with translation.override(language):
        default = ADVICE[LABEL]
        texts = [str(step.text) for step in default.steps] + [step.text for step in row.steps]
        sources = [str(step.source) for step in default.steps] + [step.source for step in row.steps]
    for text in texts:
        assert not [word for word in SPRAY_WORDS[language] if word in text.lower()], text
    assert not [source for source in sources if "fungicide" in source.lower() or "pesticide" in source.lower()]


def test_the_dashboard_names_it_and_gives_it_its_own_colour():
    assert short_name(LABEL) == "Bacterial wilt"
    colour = colour_for(LABEL, 0)
    assert colour == FIXED_COLOURS[LABEL]
    assert list(FIXED_COLOURS.values()).count(colour) == 1
