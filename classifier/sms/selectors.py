"""Reads for the verdict SMS: verdicts whose SMS was never sent, messages stuck on the way, uploads
per number, and numbers due for erasure."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from classifier.models import Label, SmsMessage, Submission


def verdicts_without_sms(now: datetime, limit: int = 500) -> list[int]:
    """Current verdicts on photos with a number whose SMS task was lost (Redis down when the officer
    saved, a worker gone): old enough that their own task should have run, young enough to matter."""
    newest = now - timedelta(seconds=settings.SMS_DELAY_SECONDS + settings.SMS_LOST_AFTER_SECONDS)
    oldest = now - timedelta(days=2)
    return list(
        Label.objects.filter(is_current=True, created_at__range=(oldest, newest), sms__isnull=True)
        .exclude(submission__phone="")
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def stuck_messages(now: datetime, limit: int = 500) -> list[int]:
    """Messages whose try was lost: ``queued`` ``SMS_LOST_AFTER_SECONDS`` past their retry time (the
    retry's task went with its worker or its Redis), or ``sending`` past their timeout (the worker
    died before the provider's answer was recorded)."""
    queued_by = now - timedelta(seconds=settings.SMS_LOST_AFTER_SECONDS)
    return list(
        SmsMessage.objects.filter(
            Q(status=SmsMessage.Status.QUEUED, next_attempt_at__lt=queued_by)
            | Q(status=SmsMessage.Status.SENDING, next_attempt_at__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def uploads_with_number_since(phone: str, since: datetime) -> int:
    """How many uploads carried ``phone`` (E.164) since ``since``."""
    return Submission.objects.filter(phone=phone, created_at__gte=since).count()


def submissions_with_expired_phone(now: datetime):
    """Submissions whose number has served its purpose: its SMS went (or failed for good) more than
    ``SMS_PHONE_RETENTION_DAYS`` ago, or it was uploaded more than ``SMS_PHONE_MAX_DAYS`` ago."""
    done = now - timedelta(days=settings.SMS_PHONE_RETENTION_DAYS)
    oldest = now - timedelta(days=settings.SMS_PHONE_MAX_DAYS)
    finished = SmsMessage.objects.filter(
        Q(status=SmsMessage.Status.SENT, sent_at__lt=done) | Q(status=SmsMessage.Status.FAILED, created_at__lt=done)
    ).values("submission_id")
    return (
        Submission.objects.exclude(phone="")
        .filter(Q(pk__in=finished) | Q(created_at__lt=oldest))
        .values_list("pk", flat=True)
    )
