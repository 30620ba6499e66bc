"""The full study run committed in ``docs/study/`` (its stored folds and the report built from them).

The report there is what docs/model.md and the closing notes quote. These tests rebuild its numbers from
the committed per-image predictions and check the committed report says exactly those numbers, so a
hand edit of a figure, or a report built from other results, fails here."""

import json
from pathlib import Path

import numpy as np
import pytest

from training.study.experiments import SPLIT_FIRST
from training.study.numbers import as_json, derive_numbers
from training.study.report import FIGURES, render_markdown
from training.study.results import StudyFolder

STUDY = Path(__file__).resolve().parent.parent / "docs" / "study"


@pytest.fixture(scope="module")
def folder():
    return StudyFolder(STUDY)


@pytest.fixture(scope="module")
def numbers(folder):
    return as_json(derive_numbers(folder))


def test_the_committed_study_is_complete(folder):
    plan = folder.study()
    assert plan["settings"]["folds"] == 5 and not plan["settings"].get("quick")
    for key in plan["configs"]:
        assert [record["fold"] for record in folder.load_folds(key)] == list(range(5)), key
    assert folder.runs()[-1]["status"] == "done"


def test_the_committed_report_json_is_what_the_stored_results_give(numbers):
    assert json.loads((STUDY / "report.json").read_text()) == numbers


def test_the_committed_report_md_is_the_one_those_numbers_render(numbers):
    """Every sentence, table and figure link: a hand edit anywhere in report.md fails here."""
    figures = {
        name: f"figures/{file_name}"
        for name, (file_name, _) in FIGURES.items()
        if (STUDY / "figures" / file_name).exists()
    }
    assert len(figures) == 10
    assert render_markdown(numbers, figures) == (STUDY / "report.md").read_text()


def test_the_final_accuracy_recomputed_from_raw_predictions(folder, numbers):
    """Independently of the report code: best configuration by mean validation accuracy, its
    held-out test and field accuracy as the mean over folds of argmax == label."""

    def accuracy(record, which):
        entries = record["predictions"][which]
        return float(np.mean(np.array(entries["probabilities"]).argmax(axis=1) == np.array(entries["labels"])))

    plan = folder.study()
    keys = [key for key, config in plan["configs"].items() if config["protocol"] == SPLIT_FIRST]
    means = {key: np.mean([accuracy(record, "validation") for record in folder.load_folds(key)]) for key in keys}
    best = numbers["best_config"]
    assert means[best] == pytest.approx(max(means.values()), abs=1e-12)
    summary = numbers["final"]["summary"]
    for which, name in (("validation", "val_accuracy"), ("test", "test_accuracy"), ("field", "field_accuracy")):
        expected = np.mean([accuracy(record, which) for record in folder.load_folds(best)])
        assert summary[name]["mean"] == pytest.approx(expected, abs=1e-12)
