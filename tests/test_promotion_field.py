"""Promotion judges what farmers would be shown on field photos (issue 25, item 1), with real models.

The shipped weights with the old rule (``decision={}``: argmax, "not sure" below 0.6) against the same
weights with the shipped rule, both run by the worker's LiteRT runtime on field photos: the old rule
answers more photos rightly but is confidently wrong on several, and promotion refuses it.
"""

from pathlib import Path

import pytest
from django.conf import settings

from classifier.inference import Predictor
from classifier.registry.artifacts import MODEL_FILENAME, ModelManifest
from classifier.registry.promotion import FieldComparison, ModelEvidence, PromotionPolicy, decide_promotion
from training.datasets import list_class_images
from training.field.data import FIELD, PoolImage
from training.field.evidence import model_answers


@pytest.fixture(scope="module")
def field_photos() -> list[PoolImage]:
    root = Path(settings.DATA_ROOT)
    images = [
        PoolImage(item, FIELD, item.path.name)
        for folder in ("field-potato", "field-potato-magelang")
        for item in list_class_images(root / folder, source=folder)
    ]
    return images[::3][:60]  # every class of both sources, a minute's share of the suite's time


def test_the_old_rule_is_refused_though_it_answers_more(field_photos):
    shipped = Predictor.from_directory(settings.DEFAULT_MODEL_DIR)
    manifest = shipped.manifest
    old_rule = Predictor(
        Path(settings.DEFAULT_MODEL_DIR) / MODEL_FILENAME,
        ModelManifest(manifest.labels, manifest.image_size, manifest.reject_label, None),
    )
    candidate = model_answers(old_rule, field_photos).figures()
    active = model_answers(shipped, field_photos).figures()
    assert candidate["field_potato_photos"] == active["field_potato_photos"] == 60
    assert candidate["answered_correctly"] > active["answered_correctly"]  # what lab accuracy alone rewards
    assert candidate["confidently_wrong"] > 0.05 and active["confidently_wrong"] == 0.0

    scores = {"accuracy": 0.969, "count": 453, "per_class": {}, "confidently_wrong_rate": 0.0}
    decision = decide_promotion(
        ModelEvidence(scores, has_rule=False, field=candidate),
        ModelEvidence({**scores, "accuracy": 0.936}, has_rule=True, field=active),
        PromotionPolicy(accuracy_floor=0.9, recall_tolerance=0.05),
        FieldComparison(candidate, active),
    )
    assert not decision.promote
    assert any("no fitted decision rule" in reason for reason in decision.reasons)
    assert f"confidently wrong went from 0.0% to {candidate['confidently_wrong']:.1%} on the same field photos" in (
        decision.reasons
    )
