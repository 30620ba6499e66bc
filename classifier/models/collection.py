"""Officers' collection (issue 27): garden visits, what the plants have (relabelled later, history kept) and
the photos taken there.

A visit and each of its photos get their id on the officer's phone, so one opened and photographed without
network is stored once however many times the phone sends it. A visit keeps coarse location only (district,
parish, date): never the farmer's name or number.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from classifier.models.submissions import District


class Evidence(models.TextChoices):
    """What the officer based her label on, besides looking at the leaves."""

    WHITE_MOULD = "white_mould", "White mould seen under the leaves"
    STEM_TEST = "stem_test", "Stem test (milky threads in clear water)"
    LAB_TEST = "lab_test", "Lab test"


class GardenVisit(models.Model):
    """One garden on one day: its photos are one group, so a cross-validation never splits them. A visit is
    stored only with the farmer's agreement that its photos may train the model and be shared."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="Made on the phone.")
    district = models.CharField(max_length=16, choices=District.choices)
    parish = models.CharField(max_length=60, help_text="Coarse location only: never the farmer's name or number.")
    visited_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="garden_visits")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-visited_on", "-created_at"]
        # Held by the dashboard's groups (``webapp.dashboard.accounts.GROUP_PERMISSIONS``): who may collect.
        permissions = [("collect_field_photos", "Can collect labelled photos in gardens")]

    def __str__(self) -> str:
        return f"{self.get_district_display()}, {self.parish}, {self.visited_on}"


class VisitLabel(models.Model):
    """What the plants of a visit have, as an officer said it. Append-only like ``Label``: a relabel (a lab
    result came back) adds a row that ``replaces`` the current one. An empty ``label`` is "not sure yet"."""

    visit = models.ForeignKey(GardenVisit, on_delete=models.CASCADE, related_name="labels")
    label = models.CharField(max_length=64, blank=True, help_text="A class; empty for 'not sure yet'.")
    evidence = models.JSONField(default=list, blank=True, help_text="Evidence codes, sorted.")
    is_current = models.BooleanField(default=True)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visit_labels")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["visit"], condition=Q(is_current=True), name="one_current_visit_label"),
        ]
        indexes = [models.Index(fields=["is_current", "label"], name="visit_label_current_label")]

    def __str__(self) -> str:
        return f"{self.label or 'not sure yet'} on visit {self.visit_id}"


class CollectedPhoto(models.Model):
    """A photo an officer took in a garden; stored as farmers' photos are (upright, at most 1024 px, no EXIF)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="Made on the phone.")
    visit = models.ForeignKey(GardenVisit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="collected/%Y/%m/%d/", max_length=255)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(null=True, blank=True, help_text="The phone's clock when it was taken.")
    received_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_unusable = models.BooleanField(default=False, help_text="Left out of training and of the dataset.")

    class Meta:
        ordering = ["visit", "taken_at", "received_at"]

    def __str__(self) -> str:
        return f"{self.id} of visit {self.visit_id}"
