"""The chaos run's own checks (``benchmarks/chaos.py``): what it counts as a verdict without an SMS
attempt and as an SMS the farmer got twice, the slow SMS backend's record of each call, and the
farmers' uploads carrying their numbers. The run itself takes minutes: docs/benchmarks.md, "Chaos"."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from benchmarks import chaos
from benchmarks.load import multipart
from benchmarks.sms_backend import SlowConsoleBackend
from classifier.labels import services as label_services
from classifier.models import SmsMessage, Submission
from tests.dashboard_helpers import diagnosed
from tests.images import jpeg_bytes

PHONE = "+256772123456"


def test_every_verdict_on_an_upload_with_a_number_needs_an_attempted_sms(active_model, officer, monkeypatch):
    monkeypatch.setattr(label_services, "schedule_verdict_sms", lambda label_id: None)  # rows made by hand below

    def verdict(phone: str = PHONE, **row):
        label = label_services.label_submission(diagnosed(active_model, phone=phone).pk, officer, label="healthy")
        if row:
            SmsMessage.objects.create(label=label, submission=label.submission, language="en", backend="x", **row)
        return label

    sent_at = timezone.now() + timedelta(seconds=3)
    twice = verdict(status="sent", body="twice", attempts=2, sent_at=sent_at)  # killed after the provider had it
    unheard = verdict(status="sent", body="unheard", attempts=1, sent_at=sent_at)  # the provider never got it
    refused = verdict(status="failed", body="refused", error="406 UserInBlacklist")
    silent = verdict(status="failed", body="silent", error="")
    stuck = [verdict(status="sending", body="s"), verdict(status="queued", body="q"), verdict()]  # no row
    no_number = verdict(phone="")
    outbox = [{"event": "accepted", "body": "twice"}, {"event": "accepted", "body": "twice"}]
    outbox += [{"event": "accepted", "body": "refused"}, {"event": "calling", "body": "unheard"}]

    verdicts = {label.pk: True for label in (twice, unheard, refused, silent, *stuck)} | {no_number.pk: False}
    figures = chaos.sms_figures(verdicts, outbox)

    assert figures["without an SMS attempt"] == 4  # failed without a reason, sending, queued, no row
    assert figures["by status"] == {"sent": 2, "failed": 2, "sending": 1, "queued": 1, "no row": 1}
    assert figures["reached the farmer twice"] == 1
    assert figures["sent, never reached the provider"] == 1
    assert figures["tried more than once"] == 1 and figures["texted without a number"] == 0
    assert len(figures["verdict to SMS"]) == 2 and all(2 < seconds < 60 for seconds in figures["verdict to SMS"])
    assert chaos.sms_attempted(verdicts) == {twice.pk, unheard.pk, refused.pk}


def test_the_slow_backend_records_each_call_and_logs_the_number_masked(tmp_path, monkeypatch, caplog):
    outbox = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("SMS_OUTBOX_FILE", str(outbox))
    monkeypatch.setenv("SLOW_SMS_SECONDS", "0,0.01")
    with caplog.at_level("INFO", logger="classifier.sms.backends"):
        SlowConsoleBackend().send(PHONE, "hello")
        SlowConsoleBackend().send(PHONE, "again")
    events = chaos.read_outbox(outbox)
    assert [(event["event"], event["body"]) for event in events] == [
        ("calling", "hello"), ("accepted", "hello"), ("answered", "hello"),
        ("calling", "again"), ("accepted", "again"), ("answered", "again"),
    ]  # fmt: skip
    assert len({event["call"] for event in events}) == 2 and {event["pid"] for event in events} == {os.getpid()}
    assert "SMS to +256******456: hello" in caplog.text and "772123456" not in caplog.text


@pytest.mark.parametrize("number", [0, 1, 18])
def test_every_other_chaos_farmer_uploads_with_her_own_ugandan_number(client, db, number):
    body, headers = multipart(jpeg_bytes(), {"phone": phone} if (phone := chaos.phone_of(number)) else {})
    response = client.generic("POST", "/api/v1/submissions", body, content_type=headers["Content-Type"])
    assert response.status_code == 202, response.content
    assert Submission.objects.get().phone == ({0: "+256772100000", 1: "", 18: "+256772100018"}[number])
