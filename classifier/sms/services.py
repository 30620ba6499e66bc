"""Writes for the verdict SMS: schedule it when an officer saves a verdict, send it at most once,
and erase farmers' numbers once they have served.

One SMS per verdict: the task is enqueued ``SMS_DELAY_SECONDS`` after the verdict commits and
sends only if that verdict is still the current one, so an officer who corrects herself within
the delay sends one SMS, the latest. The ``SmsMessage`` row (one per verdict) is claimed with a
conditional update before the provider is called, so a redelivered task never sends twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from classifier.models import Label, SmsMessage, Submission
from classifier.sms import selectors
from classifier.sms.backends import PermanentSmsError, SmsBackend, backend_name, get_backend
from classifier.sms.messages import verdict_sms

logger = logging.getLogger(__name__)


def schedule_verdict_sms(label_id: int) -> None:
    """Once the verdict's transaction commits, enqueue its SMS to run after the delay."""
    transaction.on_commit(lambda: enqueue_verdict_sms(label_id, countdown=settings.SMS_DELAY_SECONDS))


def enqueue_verdict_sms(label_id: int, countdown: float = 0) -> bool:
    """Publish the SMS task; if the broker is down the sweeper finds the verdict later."""
    from classifier.tasks import send_verdict_sms

    try:
        send_verdict_sms.apply_async(args=[label_id], countdown=countdown)
    except Exception:  # kombu raises many kinds of connection errors; the verdict is saved anyway
        logger.warning("could not enqueue the SMS for verdict %s; the sweeper will retry", label_id, exc_info=True)
        return False
    return True


def send_verdict_sms(label_id: int, backend: SmsBackend | None = None) -> str:
    """Send the SMS for one verdict unless it went already; returns what happened.

    Raises the backend's error when sending may work later (the task retries); a permanent
    refusal is recorded on the row, which admins see.
    """
    label = Label.objects.select_related("submission").filter(pk=label_id).first()
    if label is None:
        return "missing"
    if not label.is_current:
        return "superseded"
    submission = label.submission
    if not submission.phone:
        return "no phone"
    language = submission.language or settings.LANGUAGE_CODE
    message, _ = SmsMessage.objects.get_or_create(
        label=label,
        defaults={
            "submission": submission,
            "language": language,
            "body": verdict_sms(submission.pk, label.label, language),
            "backend": backend.name if backend else backend_name(),
        },
    )
    rows = SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.QUEUED)
    if not rows.update(status=SmsMessage.Status.SENDING, attempts=F("attempts") + 1):
        return SmsMessage.objects.values_list("status", flat=True).get(pk=message.pk)
    claimed = SmsMessage.objects.filter(pk=message.pk)
    try:
        backend = backend or get_backend()
        sent = backend.send(submission.phone.as_e164, message.body)
    except PermanentSmsError as error:
        claimed.update(status=SmsMessage.Status.FAILED, error=str(error)[:2000])
        logger.warning("SMS for verdict %s refused: %s", label_id, error)
        return SmsMessage.Status.FAILED
    except Exception as error:
        claimed.update(status=SmsMessage.Status.QUEUED, error=f"{type(error).__name__}: {error}"[:2000])
        raise
    claimed.update(
        status=SmsMessage.Status.SENT, sent_at=timezone.now(), provider_message_id=sent.provider_message_id, error=""
    )
    return SmsMessage.Status.SENT


def give_up_verdict_sms(label_id: int, error: str) -> None:
    """The last retry failed: the row shows it failed, and why."""
    SmsMessage.objects.filter(label_id=label_id, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.FAILED, error=error[:2000]
    )


def resend_lost_verdict_sms(now: datetime | None = None) -> int:
    """Enqueue the SMS of verdicts whose task was lost; returns how many were enqueued."""
    ids = selectors.verdicts_without_sms(now or timezone.now())
    return sum(enqueue_verdict_sms(label_id) for label_id in ids)


def forget_phone_numbers(now: datetime | None = None) -> int:
    """Erase the numbers that have served their purpose; returns how many were erased."""
    ids = list(selectors.submissions_with_expired_phone(now or timezone.now()))
    return Submission.objects.filter(pk__in=ids).update(phone="")
