"""Writes for the verdict SMS: schedule it when an officer saves a verdict, send it at most once,
and erase farmers' numbers once they have served.

One SMS per verdict: the task is enqueued ``SMS_DELAY_SECONDS`` after the verdict commits and
sends only if that verdict is still the current one, so an officer who corrects herself within
the delay sends one SMS, the latest. The ``SmsMessage`` row (one per verdict) is claimed with a
conditional update before the provider is called, so a redelivered task never sends twice while
the row says it went or is being sent.

Delivery is at least once, not exactly once: the sweeper sends again a row stuck ``queued`` past
its retry time or ``sending`` past ``SMS_SENDING_TIMEOUT_SECONDS`` (a worker killed mid-send), and
if that worker had already reached the provider the farmer gets the SMS twice. A duplicate SMS is
cheaper than none.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classifier.models import Label, SmsMessage, Submission
from classifier.sms import selectors
from classifier.sms.backends import (
    PermanentSmsError,
    SmsBackend,
    SmsConfigurationError,
    backend_name,
    configuration_error,
    get_backend,
)
from classifier.sms.messages import verdict_sms
from classifier.sms.numbers import in_served_region

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


def retry_delay(tries: int) -> int:
    """Seconds before the next try after ``tries`` failed ones: 30 s doubling, at most an hour."""
    return min(30 * 2 ** max(tries - 1, 0), 3600)


def send_verdict_sms(label_id: int, backend: SmsBackend | None = None) -> str:
    """Send the SMS for one verdict unless it went already; returns what happened.

    Raises the backend's error when sending may work later (the task retries); a permanent
    refusal, or the last of ``SMS_MAX_ATTEMPTS`` tries, is recorded on the row, which admins see.
    A configuration error leaves the row queued, its attempt uncounted, until the sweeper sends it
    once the configuration is fixed.
    """
    label = Label.objects.select_related("submission").filter(pk=label_id).first()
    if label is None:
        return "missing"
    waiting = SmsMessage.objects.filter(label_id=label_id, status=SmsMessage.Status.QUEUED)
    if not label.is_current:
        waiting.update(status=SmsMessage.Status.FAILED, error="A later verdict replaced this one; its SMS goes.")
        return "superseded"
    submission = label.submission
    if not submission.phone:
        waiting.update(status=SmsMessage.Status.FAILED, error="The number was erased before the SMS could go.")
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
    if message.status != SmsMessage.Status.QUEUED:
        return message.status
    if not in_served_region(submission.phone):
        waiting.update(status=SmsMessage.Status.FAILED, error="The number is outside the regions served (SMS_REGIONS).")
        return SmsMessage.Status.FAILED
    try:
        backend = backend or get_backend()
    except SmsConfigurationError as error:
        return _wait_for_configuration(waiting, error)
    # Claim the row: only the delivery whose update matches the attempt it read sends.
    now = timezone.now()
    attempt = message.attempts + 1
    claim = SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.QUEUED, attempts=message.attempts)
    lost_after = now + timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS)
    claimed_now = claim.update(
        status=SmsMessage.Status.SENDING, attempts=attempt, backend=backend.name, next_attempt_at=lost_after
    )
    if not claimed_now:
        return SmsMessage.objects.values_list("status", flat=True).get(pk=message.pk)
    # Later writes land only while this claim is the latest (the sweeper may have sent it again).
    claimed = SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.SENDING, attempts=attempt)
    try:
        sent = backend.send(submission.phone.as_e164, message.body)
    except PermanentSmsError as error:
        claimed.update(status=SmsMessage.Status.FAILED, error=str(error)[:2000])
        logger.warning("SMS for verdict %s refused: %s", label_id, error)
        return SmsMessage.Status.FAILED
    except SmsConfigurationError as error:
        claimed.update(status=SmsMessage.Status.QUEUED, attempts=message.attempts)
        return _wait_for_configuration(waiting, error)
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"[:2000]
        if attempt >= settings.SMS_MAX_ATTEMPTS:
            claimed.update(status=SmsMessage.Status.FAILED, error=detail)
            logger.warning("SMS for verdict %s failed after %s tries: %s", label_id, attempt, detail)
            return SmsMessage.Status.FAILED
        retry_at = timezone.now() + timedelta(seconds=retry_delay(attempt))
        claimed.update(status=SmsMessage.Status.QUEUED, error=detail, next_attempt_at=retry_at)
        raise
    claimed.update(
        status=SmsMessage.Status.SENT, sent_at=timezone.now(), provider_message_id=sent.provider_message_id, error=""
    )
    return SmsMessage.Status.SENT


def _wait_for_configuration(waiting, error: SmsConfigurationError) -> str:
    """The row stays queued with the reason; the sweeper sends it once the configuration is fixed."""
    waiting.update(error=f"Waiting for the SMS configuration: {error}"[:2000], next_attempt_at=timezone.now())
    logger.error("SMS cannot be sent: %s (messages wait until this is fixed)", error)
    return "waiting"


def give_up_verdict_sms(label_id: int, error: str) -> None:
    """The last retry failed: the row shows it failed, and why."""
    SmsMessage.objects.filter(label_id=label_id, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.FAILED, error=error[:2000]
    )


def resend_lost_verdict_sms(now: datetime | None = None) -> int:
    """Enqueue the SMS of verdicts whose task was lost, and of messages stuck ``queued`` past their
    retry time or ``sending`` past their timeout; returns how many were enqueued.

    At least once: a message whose worker died after the provider accepted it is sent twice. While
    the configuration is broken nothing is enqueued; the messages wait.
    """
    now = now or timezone.now()
    if problem := configuration_error():
        logger.error("SMS cannot be sent: %s (messages wait until this is fixed)", problem)
        return 0
    label_ids = selectors.verdicts_without_sms(now)
    label_ids += [label_id for pk in selectors.stuck_messages(now) if (label_id := _release_stuck_message(pk, now))]
    return sum(enqueue_verdict_sms(label_id) for label_id in label_ids)


def _release_stuck_message(message_id: int, now: datetime) -> int | None:
    """Put a stuck message back in the queue (or fail it after its last try); its label id if queued."""
    fields = ("label_id", "status", "attempts", "next_attempt_at")
    message = SmsMessage.objects.filter(pk=message_id).values(*fields).first()
    if message is None:
        return None
    # Changed only if nobody touched it since it was read (a late answer, a concurrent sweep).
    unchanged = SmsMessage.objects.filter(pk=message_id, **{field: message[field] for field in fields[1:]})
    lost = message["status"] == SmsMessage.Status.SENDING
    if message["attempts"] >= settings.SMS_MAX_ATTEMPTS:
        unchanged.update(status=SmsMessage.Status.FAILED, error=f"Gave up after {message['attempts']} tries.")
        return None
    changes = {"status": SmsMessage.Status.QUEUED, "next_attempt_at": now}
    if lost:
        changes["error"] = "No answer recorded (the worker was lost while sending): sent again."
    return message["label_id"] if unchanged.update(**changes) else None


def forget_phone_numbers(now: datetime | None = None) -> int:
    """Erase the numbers that have served their purpose; returns how many were erased."""
    ids = list(selectors.submissions_with_expired_phone(now or timezone.now()))
    return Submission.objects.filter(pk__in=ids).update(phone="")
