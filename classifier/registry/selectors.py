"""Reads of the model registry: the active version, versions and their change log for the dashboard."""

from __future__ import annotations

from django.db.models import QuerySet

from classifier.models import (
    ModelVersion,
    ModelVersionChange,
)


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def latest_learning_curve() -> dict | None:
    """The learning curve (per class: labelled field photos the recipe needs for 85% recall) of the newest
    version registered with one (``metrics["learning_curve"]``, from the field report)."""
    return (
        ModelVersion.objects.filter(metrics__has_key="learning_curve")
        .exclude(metrics__learning_curve=None)
        .order_by("-number")
        .values_list("metrics__learning_curve", flat=True)
        .first()
    )


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.all()


def model_versions_for_dashboard() -> QuerySet[ModelVersion]:
    """Every version, newest first, with its parent's number and its evaluation set's number
    joined (the set's photo list is left in the database)."""
    return ModelVersion.objects.select_related("parent", "evaluation_set").defer(
        "parent__metrics",
        "parent__evaluation",
        "parent__labels",
        "parent__notes",
        "parent__promotion_note",
        "evaluation_set__items",
    )


def model_version_by_number(number: int) -> ModelVersion | None:
    return ModelVersion.objects.filter(number=number).first()


def model_version_changes() -> QuerySet[ModelVersionChange]:
    """The log of active-version changes, newest first, with both versions and the user joined."""
    return ModelVersionChange.objects.select_related("version", "previous", "user").only(
        "action",
        "actor",
        "reason",
        "created_at",
        "user__username",
        "version__number",
        "previous__number",
    )
