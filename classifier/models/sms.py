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
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SMS message"

    def __str__(self) -> str:
        return f"SMS {self.status} for {self.submission_id}"
