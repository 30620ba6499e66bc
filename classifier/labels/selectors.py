"""Reads for officers' review: the queue (filters, order, neighbours), labels, classes, heatmaps."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from classifier.models import (
    Label,
    LabelClass,
    Photo,
    Prediction,
    Submission,
)
from classifier.submissions.selectors import answer_given_to_farmer

REVIEW_STATUSES = {
    "unreviewed": "Not reviewed",
    "reviewed": "Reviewed",
    "confirmed": "Confirmed",
    "corrected": "Corrected",
    "rejected": "Rejected",
    "all": "All",
}


#: Photos whose farmer got no diagnosis first (oldest first), then the rest least certain first:
#: lowest top-1 probability, then smallest margin to the runner-up (``services.review_queue_key``).
QUEUE_ORDER = ("queue_key", "margin", "submission_id")


@dataclass(frozen=True)
class QueueFilters:
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None
    predicted: str = ""
    status: str = "unreviewed"


def local_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the site's time zone (aware)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_predictions(filters: QueueFilters) -> QuerySet[Prediction]:
    """Diagnosed submissions matching the filters; reads the prediction table alone."""
    queryset = Prediction.objects.all()
    if filters.district:
        queryset = queryset.filter(district=filters.district)
    if filters.date_from:
        queryset = queryset.filter(submitted_at__gte=local_day_start(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(submitted_at__lt=local_day_start(filters.date_to + timedelta(days=1)))
    if filters.predicted:
        queryset = queryset.filter(label=filters.predicted)
    if filters.status == "reviewed":
        queryset = queryset.exclude(review_status=Prediction.ReviewStatus.UNREVIEWED)
    elif filters.status in Prediction.ReviewStatus.values:
        queryset = queryset.filter(review_status=filters.status)
    return queryset


def review_queue(filters: QueueFilters) -> QuerySet[Prediction]:
    """The review queue (farmers still without an answer first), with the model version joined;
    ``can_bulk_confirm`` says which answers the farmer was given (``answer_given_to_farmer``)."""
    return (
        filtered_predictions(filters)
        .select_related("model_version")
        .annotate(can_bulk_confirm=ExpressionWrapper(answer_given_to_farmer(), output_field=BooleanField()))
        .order_by(*QUEUE_ORDER)
    )


def queue_neighbours(filters: QueueFilters, prediction: Prediction) -> tuple[UUID | None, UUID | None]:
    """(previous, next) submission ids around ``prediction`` in the filtered queue's order.

    In the queue of photos to review, "next" skips photos already reviewed but "previous" does
    not, so an officer can step back to the photo just labelled and change the verdict.
    Keyset navigation: the ``queue_key`` bound lets the database walk the queue index from
    ``prediction`` and stop at the first row, instead of sorting the queue.
    """
    k, m, pk = prediction.queue_key, prediction.margin, prediction.submission_id
    after = Q(queue_key__gt=k) | Q(queue_key=k, margin__gt=m) | Q(queue_key=k, margin=m, submission_id__gt=pk)
    before = Q(queue_key__lt=k) | Q(queue_key=k, margin__lt=m) | Q(queue_key=k, margin=m, submission_id__lt=pk)
    following = (
        filtered_predictions(filters)
        .filter(after, queue_key__gte=k)
        .order_by(*QUEUE_ORDER)
        .values_list("submission_id", flat=True)
        .first()
    )
    back_filters = replace(filters, status="all") if filters.status == "unreviewed" else filters
    preceding = (
        filtered_predictions(back_filters)
        .filter(before, queue_key__lte=k)
        .order_by(*(f"-{field}" for field in QUEUE_ORDER))
        .values_list("submission_id", flat=True)
        .first()
    )
    return preceding, following


def submission_for_review(submission_id: UUID | str) -> Submission | None:
    """One case with its prediction, model version and heatmap (one query) and its photos (one more)."""
    try:
        return (
            Submission.objects.select_related("prediction__model_version", "heatmap__model_version")
            .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("position")))
            .get(pk=submission_id)
        )
    except (Submission.DoesNotExist, ValueError):
        return None


def label_history(submission_id: UUID | str) -> QuerySet[Label]:
    """Every verdict on a submission, newest first, with who made it."""
    return Label.objects.filter(submission_id=submission_id).select_related("created_by").order_by("-created_at", "-id")


def label_classes() -> QuerySet[LabelClass]:
    """Classes officers can choose: the models' classes first, in the order they were added; reject last."""
    return LabelClass.objects.select_related("created_by").order_by("is_reject", "id")


def heatmap_image_name(submission_id: UUID | str) -> str | None:
    from classifier.models import Heatmap

    return Heatmap.objects.filter(pk=submission_id, status=Heatmap.Status.DONE).values_list("image", flat=True).first()


def current_labels(usable_only: bool = True) -> QuerySet[Label]:
    """The current officer label of every reviewed case: what retraining learns from.

    Each row has ``submission`` and ``label``; ``usable_only`` drops cases rejected as unusable (they have
    no class). Every photo of a case the officer did not mark unusable trains with its label
    (``classifier.submissions.selectors.usable_photos``).
    """
    queryset = Label.objects.filter(is_current=True).select_related("submission")
    if usable_only:
        queryset = queryset.exclude(label="")
    return queryset.order_by("created_at", "id")

