"""Seeded submissions read their drawn probabilities as the worker does: the version's decision
rule and the review queue's key, so the dashboard tried on them looks as it will in the field."""

import pytest
from django.conf import settings

from classifier import seeding
from classifier.models import ModelVersion, Prediction
from classifier.submissions.services import review_queue_key

pytestmark = pytest.mark.django_db


def assert_queue_keys_as_recorded(predictions) -> None:
    for p in predictions:
        assert p.queue_key == review_queue_key(p.is_unsure, p.is_potato_leaf, p.confidence, p.submitted_at)


def test_seeding_follows_the_shipped_models_fitted_rule(active_model):
    assert active_model.decision["unsure_below"] == 1.0  # the shipped rule: no potato answer is shown as sure
    assert seeding.seed_submissions(300, active_model, reviewed_fraction=0.2) == 300
    predictions = list(Prediction.objects.all())
    potato = [p for p in predictions if p.is_potato_leaf]
    assert potato and all(p.is_unsure for p in potato)
    # Turned away only at the rule's single-photo threshold (0.95 for the shipped one): drawn photos rarely reach it.
    rejected = [p for p in predictions if not p.is_potato_leaf]
    assert all(p.label == active_model.reject_label and p.answer_kind == "not_potato_leaf" for p in rejected)
    assert_queue_keys_as_recorded(predictions)


def test_seeding_with_a_version_without_a_rule_uses_the_old_threshold(active_model):
    ModelVersion.objects.filter(pk=active_model.pk).update(decision={})
    active_model.refresh_from_db()
    seeding.seed_submissions(300, active_model, reviewed_fraction=0)
    predictions = list(Prediction.objects.all())
    threshold = settings.CLASSIFIER_UNSURE_BELOW
    assert {p.is_unsure for p in predictions} == {True, False}
    assert all(p.is_unsure == (p.confidence < threshold) for p in predictions)
    assert_queue_keys_as_recorded(predictions)
