"""What counts as a checked field photo: the one rule, read by retraining, the counts against the learning curve
(Collect and Models pages) and the dataset export.

- **A farmer's upload**: every usable photo (not marked unusable) of a case whose current officer label names a
  class: confirmed, corrected, or "not a potato leaf" (``Label``; a case rejected as an unusable photo names
  none). Checked by the officer who gave that label.
- **An officer's collected photo**: every usable photo of a garden visit whose current label names a class,
  checked by the officer who gave that label. A visit still "not sure yet" names none: its photos are never
  training data, nor counted, nor exported, until someone labels it.

Each photo keeps its group (the case, or the visit: one garden), so a grouped cross-validation never splits a
garden, and its source, so figures never mix farmers' uploads with officers' photos.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from classifier.models import CollectedPhoto, District, Label, Photo, VisitLabel

UPLOADS = "uploads"  # farmers' reviewed uploads
COLLECTED = "collected"  # officers' photos from garden visits
SOURCES = (UPLOADS, COLLECTED)
#: The districts the service serves, whose missing photos the pages name ("other" is not one to look in).
SERVED_DISTRICTS = (District.RUBANDA, District.KABALE, District.KISORO)


def checked_upload_labels() -> QuerySet[Label]:
    """The current officer label of every case whose photos are checked (the label names a class)."""
    return Label.objects.filter(is_current=True).exclude(label="")


def checked_visit_labels() -> QuerySet[VisitLabel]:
    """The current label of every visit whose photos are checked ("not sure yet" left out)."""
    return VisitLabel.objects.filter(is_current=True).exclude(label="")


def is_checked_visit_label(label: str) -> bool:
    """For one visit label already read: whether its photos are checked."""
    return bool(label)


@dataclass(frozen=True)
class CheckedPhoto:
    """One checked field photo with what training, the counts and the dataset need."""

    source: str  # UPLOADS or COLLECTED
    group: str  # the case's or the visit's id: one garden
    name: str  # a stable file stem, unique within its source
    image: str  # storage name
    label: str
    district: str
    day: date
    labelled_by: str
    labelled_at: datetime
    evidence: tuple[str, ...] = field(default=())


def checked_field_photos(sources: tuple[str, ...] = SOURCES) -> Iterator[CheckedPhoto]:
    """Every checked field photo of ``sources``: farmers' uploads (by label time), then collected ones."""
    if UPLOADS in sources:
        labels = (
            checked_upload_labels()
            .select_related("submission", "created_by")
            .prefetch_related(
                Prefetch("submission__photos", queryset=Photo.objects.filter(is_unusable=False).order_by("position"))
            )
            .order_by("created_at", "id")
        )
        for label in labels:
            case = label.submission
            evidence = upload_evidence(case)
            for photo in case.photos.all():
                yield CheckedPhoto(
                    source=UPLOADS,
                    group=str(case.pk),
                    name=str(case.pk) if photo.position == 0 else f"{case.pk}-{photo.position}",
                    image=photo.image.name,
                    label=label.label,
                    district=case.district,
                    day=timezone.localdate(case.created_at),
                    labelled_by=label.created_by.get_username(),
                    labelled_at=label.created_at,
                    evidence=evidence,
                )
    if COLLECTED in sources:
        labels = (
            checked_visit_labels()
            .select_related("visit", "created_by")
            .prefetch_related(
                Prefetch(
                    "visit__photos",
                    queryset=CollectedPhoto.objects.filter(is_unusable=False).order_by("taken_at", "received_at"),
                )
            )
            .order_by("created_at", "id")
        )
        for label in labels:
            visit = label.visit
            for photo in visit.photos.all():
                yield CheckedPhoto(
                    source=COLLECTED,
                    group=str(visit.pk),
                    name=f"{visit.pk}-{photo.pk}",
                    image=photo.image.name,
                    label=label.label,
                    district=visit.district,
                    day=visit.visited_on,
                    labelled_by=label.created_by.get_username(),
                    labelled_at=label.created_at,
                    evidence=tuple(label.evidence),
                )


def upload_evidence(case) -> tuple[str, ...]:
    """What an upload's label rests on: the officer's review of the photos, and the farmer's own check if any."""
    if not case.field_check_answer:
        return ("photo_review",)
    return ("photo_review", f"farmer_{case.field_check}_check_{case.field_check_answer}")


@dataclass
class CheckedCounts:
    """Checked field photos per class and source, and the districts each class has photos from."""

    by_class: dict[str, dict[str, int]]
    districts: dict[str, set[str]]

    def total(self, label: str) -> int:
        return sum(self.by_class.get(label, {}).values())

    def of(self, label: str, source: str) -> int:
        return self.by_class.get(label, {}).get(source, 0)

    def districts_without(self, label: str) -> list[str]:
        """The served districts with no checked photo of ``label`` yet (their display names)."""
        have = self.districts.get(label, set())
        return [district.label for district in SERVED_DISTRICTS if district.value not in have]


def checked_photo_counts() -> CheckedCounts:
    """Per class: checked photos from farmers' uploads and from collection, and their districts (two queries)."""
    by_class: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SOURCES, 0))
    districts: dict[str, set[str]] = defaultdict(set)
    uploads = (
        checked_upload_labels()
        .filter(submission__photos__is_unusable=False)
        .values("label", "submission__district")
        .annotate(photos=Count("submission__photos"))
    )
    collected = (
        checked_visit_labels()
        .filter(Q(visit__photos__is_unusable=False))
        .values("label", "visit__district")
        .annotate(photos=Count("visit__photos"))
    )
    for source, rows, district_key in (
        (UPLOADS, uploads, "submission__district"),
        (COLLECTED, collected, "visit__district"),
    ):
        for row in rows:
            by_class[row["label"]][source] += row["photos"]
            if row["photos"] and row[district_key]:
                districts[row["label"]].add(row[district_key])
    return CheckedCounts(dict(by_class), dict(districts))
