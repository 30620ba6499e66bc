"""Writes of officers' collection: open a garden visit, add a photo taken there, relabel a visit, mark a photo
unusable.

The phone names each visit and photo (a UUID) before it has network, and may send one more than once (a retry
after a lost answer, the page and the service worker at once): the same id is stored once, and sending it again
answers with what is stored. Labels are append-only, as officers' verdicts on cases are: a relabel (a lab result
came back) adds a row that replaces the current one, so the history is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from classifier.models import CollectedPhoto, District, Evidence, GardenVisit, LabelClass, VisitLabel
from classifier.validators import CleanPhoto

MAX_VISIT_PHOTOS = 200
PARISH_MAX_LENGTH = 60
#: Four digits in a row look like part of a phone number: a visit keeps a parish, never a farmer's number.
_DIGITS = re.compile(r"\d{4}")
#: How far back a visit's date may be (a visit typed in later) and forward (a phone's clock a day ahead).
OLDEST_VISIT_DAYS = 366


class CollectionError(ValueError):
    """What an officer sent cannot be stored; the message says why."""


class VisitNotFound(CollectionError):
    """A photo for a visit the server does not know (yet: the phone sends the visit first)."""


def clean_parish(value: str) -> str:
    """The parish as typed, spaces tidied; refused when empty, too long or holding a number."""
    parish = " ".join((value or "").split())
    if not parish:
        raise CollectionError("Name the parish (coarse location only).")
    if len(parish) > PARISH_MAX_LENGTH:
        raise CollectionError(f"A parish name has at most {PARISH_MAX_LENGTH} characters.")
    if _DIGITS.search(parish):
        raise CollectionError("Only the parish's name: never a farmer's name or phone number.")
    return parish


def clean_label(label: str) -> str:
    """A class officers can give, or '' for 'not sure yet'."""
    label = (label or "").strip()
    if label and not LabelClass.objects.filter(name=label).exists():
        raise CollectionError(f"Unknown class {label}.")
    return label


def clean_evidence(evidence: Iterable[str]) -> list[str]:
    chosen = sorted({str(code) for code in evidence or () if str(code)})
    unknown = [code for code in chosen if code not in Evidence.values]
    if unknown:
        raise CollectionError(f"Unknown evidence: {', '.join(unknown)}.")
    return chosen


def clean_visit_date(value: date) -> date:
    today = timezone.localdate()
    if not today - timedelta(days=OLDEST_VISIT_DAYS) <= value <= today + timedelta(days=1):
        raise CollectionError("The visit's date must be within the last year.")
    return value


@transaction.atomic
def open_visit(
    user,
    district: str,
    parish: str,
    visited_on: date,
    label: str = "",
    evidence: Iterable[str] = (),
    visit_id: UUID | str | None = None,
    farmer_agreed: bool = False,
) -> tuple[GardenVisit, bool]:
    """Store a garden visit with its first label; ``(visit, created)``. The same ``visit_id`` sent again by
    its officer returns the stored visit unchanged (a later label is a relabel). Only with the farmer's
    agreement that the photos may train the model and be shared: no visit is stored without it."""
    if visit_id is not None:
        existing = GardenVisit.objects.filter(pk=visit_id).first()
        if existing is not None:
            return _own(existing, user), False
    if not farmer_agreed:
        raise CollectionError("Ask the farmer first: photos are taken only with the farmer's agreement.")
    if district not in District.values:
        raise CollectionError("Choose the district.")
    fields = {
        "district": district,
        "parish": clean_parish(parish),
        "visited_on": clean_visit_date(visited_on),
    }
    label, evidence = clean_label(label), clean_evidence(evidence)
    visit = GardenVisit(created_by=user, created_at=timezone.now(), **fields)
    if visit_id is not None:
        visit.pk = visit_id
    try:
        with transaction.atomic():
            visit.save(force_insert=True)
            VisitLabel.objects.create(visit=visit, label=label, evidence=evidence, created_by=user)
    except IntegrityError:  # the same id sent twice at once: the other request stored it
        return _own(GardenVisit.objects.get(pk=visit_id), user), False
    return visit, True


def _own(visit: GardenVisit, user) -> GardenVisit:
    if visit.created_by_id != user.pk:
        raise CollectionError("This visit was opened by another officer.")
    return visit


@transaction.atomic
def relabel_visit(visit_id: UUID | str, user, label: str, evidence: Iterable[str] = ()) -> VisitLabel:
    """A new label for a visit (the plants were checked again, a lab result came back), replacing the current
    one; the same label and evidence sent twice by the same officer is recorded once."""
    visit = GardenVisit.objects.select_for_update().filter(pk=visit_id).first()
    if visit is None:
        raise VisitNotFound("No such visit.")
    label, evidence = clean_label(label), clean_evidence(evidence)
    current = VisitLabel.objects.select_for_update().filter(visit=visit, is_current=True).first()
    if current is not None:
        if (current.label, current.evidence, current.created_by_id) == (label, evidence, user.pk):
            return current
        current.is_current = False
        current.save(update_fields=["is_current"])
    return VisitLabel.objects.create(
        visit=visit, label=label, evidence=evidence, replaces=current, created_by=user, created_at=timezone.now()
    )


def add_collected_photo(
    photo_id: UUID | str, visit_id: UUID | str, user, photo: CleanPhoto, taken_at: datetime | None = None
) -> tuple[CollectedPhoto, bool]:
    """Store one photo of a visit; ``(photo, created)``. The same ``photo_id`` sent again returns the stored one
    and stores nothing (the file of a copy that lost the race is removed)."""
    existing = CollectedPhoto.objects.filter(pk=photo_id).first()
    if existing is not None:
        if str(existing.visit_id) != str(visit_id):
            raise CollectionError("This photo belongs to another visit.")
        return existing, False
    visit = GardenVisit.objects.filter(pk=visit_id).first()
    if visit is None:
        raise VisitNotFound("No such visit (yet): send the visit first.")
    _own(visit, user)
    if CollectedPhoto.objects.filter(visit=visit).count() >= MAX_VISIT_PHOTOS:
        raise CollectionError(f"A visit holds at most {MAX_VISIT_PHOTOS} photos: open a new visit.")
    now = timezone.now()
    if taken_at is not None and timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    if taken_at is not None and not visit_start(visit) <= taken_at <= now + timedelta(days=1):
        taken_at = None  # a phone clock far off says nothing useful
    row = CollectedPhoto(
        id=photo_id,
        visit=visit,
        width=photo.width,
        height=photo.height,
        taken_at=taken_at,
        received_at=now,
        sent_by=user,
    )
    row.image.save(f"{photo_id}.jpg", ContentFile(photo.content), save=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        row.image.delete(save=False)
        return CollectedPhoto.objects.get(pk=photo_id), False
    except Exception:
        row.image.delete(save=False)
        raise
    return row, True


def visit_start(visit: GardenVisit) -> datetime:
    """The earliest a photo of ``visit`` can have been taken: the start of the day before its date."""
    return timezone.make_aware(datetime.combine(visit.visited_on - timedelta(days=1), datetime.min.time()))


def mark_collected_photo(photo_id: UUID | str, unusable: bool) -> bool:
    """Leave a photo out of training and the dataset (blurred, wrong plant), or take it back; whether it exists."""
    return bool(CollectedPhoto.objects.filter(pk=photo_id).update(is_unusable=unusable))
