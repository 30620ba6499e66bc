"""Aggregate reads for monitoring: disease counts per week and district, how long farmers wait for
an officer's answer, model-officer agreement, and the rows of the CSV export. Each reads a bounded
number of queries, whatever the number of submissions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Case, CharField, Count, F, FilteredRelation, IntegerField, Min, Q, Value, When
from django.utils import timezone

from classifier.classes import UNUSABLE
from classifier.decision import AnswerKind
from classifier.labels.selectors import QueueFilters, filtered_predictions, label_classes, local_day_start
from classifier.models import District, ModelVersion, Prediction

UNSURE = "unsure"
EARLY_OR_LATE_BLIGHT = "early_or_late_blight"  # the model's "one of two" answer, counted as such
#: Longest range a report covers (weeks are CASE branches in SQL).
MAX_REPORT_DAYS = 2 * 366


@dataclass
class ReportRow:
    key: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class DiseaseReport:
    """Counts of the best-known answer per week and per district for a date range.

    The best-known answer is the officer's label when the photo has been reviewed, else the model's
    answer (``unsure`` when the model was not sure).
    """

    date_from: date
    date_to: date
    classes: list[str]
    weeks: list[ReportRow] = field(default_factory=list)
    districts: list[ReportRow] = field(default_factory=list)

    @property
    def totals(self) -> list[int]:
        return [sum(row.counts[i] for row in self.weeks) for i in range(len(self.classes))]

    @property
    def total(self) -> int:
        return sum(self.totals)


def week_starts(date_from: date, date_to: date) -> list[date]:
    """The Monday of every week that overlaps the range."""
    monday = date_from - timedelta(days=date_from.weekday())
    weeks = []
    while monday <= date_to:
        weeks.append(monday)
        monday += timedelta(weeks=1)
    return weeks


def _ordered_classes(seen: set[str]) -> list[str]:
    known = [name for name in label_classes().values_list("name", flat=True) if name in seen]
    extra = sorted(seen - set(known) - {UNSURE, UNUSABLE})
    return known + extra + [name for name in (UNSURE, UNUSABLE) if name in seen]


def disease_report(date_from: date, date_to: date, district: str = "", reviewed_only: bool = False) -> DiseaseReport:
    """Disease counts per week and per district between two local dates (both included)."""
    weeks = week_starts(date_from, date_to)
    # Week buckets as plain comparisons against local Monday midnights: portable, and exact in
    # every time zone, unlike per-row date functions (which SQLite runs in Python).
    boundaries = [local_day_start(monday) for monday in weeks[1:]]
    week_index = Case(
        *(When(submitted_at__lt=boundary, then=Value(i)) for i, boundary in enumerate(boundaries)),
        default=Value(len(weeks) - 1),
        output_field=IntegerField(),
    )
    reviewed = ~Q(review_status=Prediction.ReviewStatus.UNREVIEWED)
    answer = Case(
        When(reviewed & Q(reviewed_label=""), then=Value(UNUSABLE)),
        When(reviewed, then=F("reviewed_label")),
        # "Leaf blight: early or late" is an answer about blight, not a "not sure": surveillance needs it.
        When(answer_kind=AnswerKind.ONE_OF, then=Value(EARLY_OR_LATE_BLIGHT)),
        When(is_unsure=True, then=Value(UNSURE)),
        default=F("label"),
        output_field=CharField(),
    )
    filters = QueueFilters(
        district=district, date_from=date_from, date_to=date_to, status="reviewed" if reviewed_only else "all"
    )
    rows = (
        filtered_predictions(filters)
        .annotate(week=week_index, answer=answer)
        .values("week", "district", "answer")
        .annotate(n=Count("*"))
        .order_by()
    )
    by_week: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_district: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seen: set[str] = set()
    for row in rows:
        seen.add(row["answer"])
        by_week[row["week"]][row["answer"]] += row["n"]
        by_district[row["district"]][row["answer"]] += row["n"]
    classes = _ordered_classes(seen)
    report = DiseaseReport(date_from, date_to, classes)
    report.weeks = [
        ReportRow(monday.isoformat(), [by_week[i][name] for name in classes]) for i, monday in enumerate(weeks)
    ]
    district_order = [value for value, _ in District.choices] + [""]
    report.districts = [
        ReportRow(key, [by_district[key][name] for name in classes]) for key in district_order if key in by_district
    ]
    return report


@dataclass
class AnswerTimes:
    """How long farmers waited for an officer's answer in one week or district (hours)."""

    key: str
    answered: int
    median_hours: float | None
    p90_hours: float | None


@dataclass
class AnswerTimeReport:
    """Time from upload to an officer's first answer, and the farmers still waiting for one."""

    weeks: list[AnswerTimes]
    districts: list[AnswerTimes]
    still_waiting: int  # got "not sure" or "not a potato leaf", and no officer has answered yet
    oldest_waiting: datetime | None

    @property
    def answered(self) -> int:
        return sum(row.answered for row in self.weeks)


def _answer_times(key: str, hours: list[float]) -> AnswerTimes:
    if not hours:
        return AnswerTimes(key, 0, None, None)
    p90 = statistics.quantiles(hours, n=10, method="inclusive")[8] if len(hours) > 1 else hours[0]
    return AnswerTimes(key, len(hours), statistics.median(hours), p90)


def answer_time_report(date_from: date, date_to: date, district: str = "") -> AnswerTimeReport:
    """Upload-to-answer times per week and district for photos uploaded between two local dates."""
    in_range = filtered_predictions(QueueFilters(district=district, date_from=date_from, date_to=date_to, status="all"))
    by_week: dict[date, list[float]] = defaultdict(list)
    by_district: dict[str, list[float]] = defaultdict(list)
    answered = in_range.filter(answered_at__isnull=False).values_list("submitted_at", "district", "answered_at")
    for submitted, where, first_answer in answered.iterator(chunk_size=5000):
        hours = max((first_answer - submitted).total_seconds(), 0) / 3600
        day = timezone.localdate(submitted)
        by_week[day - timedelta(days=day.weekday())].append(hours)
        by_district[where].append(hours)
    waiting = in_range.filter(review_status=Prediction.ReviewStatus.UNREVIEWED, queue_key__lt=0).aggregate(
        n=Count("*"), oldest=Min("submitted_at")
    )
    district_order = [value for value, _ in District.choices] + [""]
    return AnswerTimeReport(
        weeks=[_answer_times(monday.isoformat(), by_week[monday]) for monday in week_starts(date_from, date_to)],
        districts=[_answer_times(key, by_district[key]) for key in district_order if key in by_district],
        still_waiting=waiting["n"],
        oldest_waiting=waiting["oldest"],
    )


@dataclass
class VersionAgreement:
    """How often officers agreed with one model version, over its reviewed submissions."""

    number: int
    labels: list[str]
    matrix: list[list[int]]  # rows: the officers' label; columns: the model's answer
    unusable: int = 0

    @property
    def reviewed(self) -> int:
        return sum(map(sum, self.matrix))

    @property
    def agreed(self) -> int:
        return sum(self.matrix[i][i] for i in range(len(self.labels)))

    @property
    def accuracy(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None

    @property
    def rows(self) -> list[dict]:
        """The matrix with labels, per-class recall and which cell is the diagonal, for templates."""
        result = []
        for i, name in enumerate(self.labels):
            support = sum(self.matrix[i])
            cells = [{"count": count, "diagonal": i == j} for j, count in enumerate(self.matrix[i])]
            recall = self.matrix[i][i] / support if support else None
            result.append({"label": name, "cells": cells, "support": support, "recall": recall})
        return result


def agreement_by_version(date_from: date | None = None, date_to: date | None = None) -> list[VersionAgreement]:
    """Model-officer agreement per model version with its confusion matrix: the live accuracy of each
    model on real uploads. Unusable photos are counted apart (they have no class)."""
    from sklearn.metrics import confusion_matrix

    reviewed = Prediction.objects.exclude(review_status=Prediction.ReviewStatus.UNREVIEWED)
    if date_from:
        reviewed = reviewed.filter(submitted_at__gte=local_day_start(date_from))
    if date_to:
        reviewed = reviewed.filter(submitted_at__lt=local_day_start(date_to + timedelta(days=1)))
    rows = list(reviewed.values("model_version_id", "reviewed_label", "label").annotate(n=Count("*")).order_by())
    versions = {
        pk: (number, labels)
        for pk, number, labels in ModelVersion.objects.filter(
            pk__in={row["model_version_id"] for row in rows}
        ).values_list("pk", "number", "labels")
    }
    result = []
    for pk, (number, version_labels) in sorted(versions.items(), key=lambda item: -item[1][0]):
        mine = [row for row in rows if row["model_version_id"] == pk]
        names = list(version_labels or [])
        for row in mine:
            for name in (row["reviewed_label"], row["label"]):
                if name and name not in names:
                    names.append(name)
        labelled = [row for row in mine if row["reviewed_label"]]
        unusable = sum(row["n"] for row in mine if not row["reviewed_label"])
        matrix = [[0] * len(names) for _ in names]
        if labelled:  # rows: the officer's label; columns: the model's; counts come aggregated
            matrix = confusion_matrix(
                [row["reviewed_label"] for row in labelled],
                [row["label"] for row in labelled],
                labels=names,
                sample_weight=[row["n"] for row in labelled],
            ).tolist()
        result.append(VersionAgreement(number, names, matrix, unusable))
    return result


EXPORT_HEADER = [
    "submission_id",
    "created_at",
    "district",
    "predicted_label",
    "confidence",
    "margin",
    "is_unsure",
    "model_version",
    "top3",
    "review_action",
    "officer_label",
    "reject_reason",
    "reviewed_by",
    "reviewed_at",
    "photos",
    "answer_kind",
    "answer_labels",
    "farmer_check",
    "farmer_check_answer",
]


def export_rows(filters: QueueFilters, chunk_size: int = 2000) -> Iterator[list]:
    """Rows of the CSV export (header first), streamed from the database in chunks."""
    yield EXPORT_HEADER
    queryset = (
        filtered_predictions(filters)
        .annotate(current=FilteredRelation("submission__labels", condition=Q(submission__labels__is_current=True)))
        .order_by("submitted_at", "submission_id")
        .values_list(
            "submission_id",
            "submitted_at",
            "district",
            "label",
            "confidence",
            "margin",
            "is_unsure",
            "model_version__number",
            "top",
            "current__action",
            "current__label",
            "current__reject_reason",
            "current__created_by__username",
            "current__created_at",
            "photo_count",
            "answer_kind",
            "answer_labels",
            "submission__field_check",
            "submission__field_check_answer",
        )
    )
    for row in queryset.iterator(chunk_size=chunk_size):
        sid, created, district, label, confidence, margin, unsure, number, top = row[:9]
        action, officer, reason, who, when = row[9:14]
        photos, kind, answered, check, check_answer = row[14:]
        yield [
            str(sid),
            timezone.localtime(created).isoformat(timespec="seconds") if created else "",
            district,
            label,
            f"{confidence:.4f}",
            f"{margin:.4f}",
            int(unsure),
            number,
            ";".join(f"{entry['label']}:{entry['confidence']:.4f}" for entry in top or []),
            action or "",
            officer or "",
            reason or "",
            who or "",
            timezone.localtime(when).isoformat(timespec="seconds") if when else "",
            photos,
            kind,
            ";".join(answered or []),
            check or "",
            check_answer or "",
        ]
