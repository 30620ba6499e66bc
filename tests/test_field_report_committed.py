"""The committed field report says only what its stored out-of-fold predictions say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from classifier.registry.artifacts import ModelManifest
from training.field.report import build_report, load_results, render_markdown

FOLDER = Path(settings.BASE_DIR) / "docs" / "field"
pytestmark = pytest.mark.skipif(not (FOLDER / "report.json").exists(), reason="no committed field report")


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads((FOLDER / "report.json").read_text())


def test_report_json_and_markdown_rebuild_from_the_stored_predictions(committed):
    rebuilt = json.loads(json.dumps(build_report(FOLDER)))
    assert rebuilt == committed
    assert (FOLDER / "report.md").read_text() == render_markdown(committed)


def test_a_figure_recomputed_by_hand_from_raw_probabilities(committed):
    """Other crops turned away under the old rule (argmax): counted here without the report's code."""
    photos, results = load_results(FOLDER)
    chosen = committed["chosen"]
    per_repeat = []
    for repeat, folds in sorted(results[chosen].items()):
        turned_away = total = 0
        for fold in folds:
            reject = fold["classes"].index(fold["reject_label"])
            for key, probabilities in zip(fold["keys"], fold["probabilities"], strict=True):
                photo = photos[key]
                if photo["domain"] == "field" and photo["label"] == fold["reject_label"] and not photo["subset"]:
                    total += 1
                    turned_away += int(np.argmax(probabilities)) == reject
        per_repeat.append(round(turned_away / total, 4))
    assert committed["arms"][f"{chosen}_old_rule"]["metrics"]["other_crops_rejected"]["values"] == per_repeat


def test_every_field_photo_is_predicted_once_per_repeat(committed):
    photos, results = load_results(FOLDER)
    field = {key for key, photo in photos.items() if photo["domain"] == "field"}
    for repeat, folds in results[committed["chosen"]].items():
        keys = [key for fold in folds for key in fold["keys"] if key in field]
        assert sorted(keys) == sorted(field), f"repeat {repeat}"


def test_the_shipped_model_carries_the_rule_the_report_fitted(committed):
    manifest = ModelManifest.read(settings.DEFAULT_MODEL_DIR)
    assert manifest.decision == committed["shipped_rule"]


def test_the_shipped_recipe_is_the_arm_closest_to_the_targets(committed):
    from training.field.protocol import CHOSEN

    assert committed["chosen"] == CHOSEN == committed["closest_to_targets"]
    manifest = ModelManifest.read(settings.DEFAULT_MODEL_DIR)
    assert manifest.image_size == committed["arms"][CHOSEN]["recipe"]["image_size"]


def test_the_shipped_rule_is_fitted_on_the_small_copy_the_phone_sends_for_the_diagnosis(committed):
    """The phone's small copy (``served_views.SMALL_COPY``, what static/js/upload.js sends first) was measured,
    and the rule that ships was fitted on its folds, beside the 800 px copy and the same models judged on it."""
    from training.field.paired import paired_arm
    from training.field.protocol import CHOSEN, served_arm
    from training.field.served_views import PHONE_COPY, SMALL_COPY

    small = served_arm(CHOSEN, SMALL_COPY)
    assert committed["rule_fitted_on"] == small
    assert committed["rule_fitted_on_copy"] == {"side": SMALL_COPY.side, "quality": SMALL_COPY.quality}
    rows = committed["phone_copies"]["rows"]
    assert {served_arm(CHOSEN), small, paired_arm(small, PHONE_COPY)} <= set(rows)
    assert committed["phone_copies"]["reference"] == paired_arm(small, PHONE_COPY)
    assert rows[small]["sent"]["side"] == SMALL_COPY.side and rows[small]["sent"]["quality"] == SMALL_COPY.quality
