"""Reads of officers' collection: visits with their current label and photo count, one visit's history and
photos, the parishes already named (offered while typing)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from classifier.models import CollectedPhoto, GardenVisit, VisitLabel

PARISH_SUGGESTIONS = 300


def _current(field: str) -> Subquery:
    return Subquery(VisitLabel.objects.filter(visit=OuterRef("pk"), is_current=True).values(field)[:1])


def visits_for_dashboard() -> QuerySet[GardenVisit]:
    """Visits, newest first, each with ``current_label``, ``current_evidence`` and ``photo_count`` (usable
    photos), and who opened it; one query."""
    return (
        GardenVisit.objects.select_related("created_by")
        .annotate(
            current_label=_current("label"),
            current_evidence=_current("evidence"),
            photo_count=Count("photos", filter=Q(photos__is_unusable=False)),
        )
        .order_by("-visited_on", "-created_at")
    )


def visit_for_page(visit_id: UUID | str) -> GardenVisit | None:
    """One visit with its photos (in the order taken) and its labels (newest first, who gave each)."""
    try:
        return (
            GardenVisit.objects.select_related("created_by")
            .prefetch_related(
                Prefetch("photos", queryset=CollectedPhoto.objects.order_by("taken_at", "received_at")),
                Prefetch(
                    "labels", queryset=VisitLabel.objects.select_related("created_by").order_by("-created_at", "-id")
                ),
            )
            .get(pk=visit_id)
        )
    except (GardenVisit.DoesNotExist, ValueError):
        return None


def parishes() -> list[str]:
    """Parishes officers have named, most used first (the form offers them while typing)."""
    rows = GardenVisit.objects.values("parish").annotate(visits=Count("pk")).order_by("-visits", "parish")
    return [row["parish"] for row in rows[:PARISH_SUGGESTIONS]]


def collected_photo_image_name(photo_id: UUID | str) -> str | None:
    try:
        return CollectedPhoto.objects.filter(pk=photo_id).values_list("image", flat=True).first()
    except ValueError:
        return None


def collected_photo_visit_id(photo_id: UUID | str) -> UUID | None:
    try:
        return CollectedPhoto.objects.filter(pk=photo_id).values_list("visit_id", flat=True).first()
    except ValueError:
        return None
