"""The SMS outbox: one message per officer's verdict, carried to the farmer who left a number."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from classifier.models.labels import Label
from classifier.models.submissions import Submission


class SmsMessage(models.Model):
    """The one SMS that carries an officer's verdict to the farmer: at most one per verdict.

    The row is the outbox: what was sent, in which language, through which backend, and what went
    wrong. It never holds the phone number (that stays on the submission, and is erased).

    Delivery is at least once: a row stuck ``queued`` past its retry time or ``sending`` past
    ``SMS_SENDING_TIMEOUT_SECONDS`` is sent again (``attempts`` counts every try), so a worker that
    died after the provider accepted the message but before the row said so sends it twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    label = models.OneToOneField(Label, on_delete=models.PROTECT, related_name="sms")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="sms_messages")
    language = models.CharField(max_length=12)
    body = models.CharField(max_length=160)
    backend = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Queued: when the next try is due (the sweeper sends a row whose try never came). Sending: when
    # the try in flight counts as lost (its worker died before the provider answered).
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SMS message"

    def __str__(self) -> str:
        return f"SMS {self.status} for {self.submission_id}"
