"""The verdict SMS: its text, one per verdict, the Africa's Talking backend as the SDK sends it,
retries, lost tasks, erasing the numbers, and the console backend through a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from classifier.advice.defaults import ADVICE
from classifier.labels import services as label_services
from classifier.models import Label, SmsMessage, Submission
from classifier.sms import services as sms
from classifier.sms.backends import ConsoleBackend, TemporarySmsError
from classifier.sms.messages import SMS_LENGTH, verdict_sms
from classifier.tasks import send_verdict_sms
from tests.conftest import REPO, WorkerProcess, finished_task_runs, wait_until
from tests.dashboard_helpers import PASSWORD, diagnosed
from tests.images import jpeg_bytes
from webapp.dashboard.accounts import create_officer

pytestmark = pytest.mark.django_db

PHONE = "+256772123456"
SANDBOX_URL = "https://api.sandbox.africastalking.com/version1/messaging"


@pytest.fixture
def reviewer(db):
    return create_officer("okello", PASSWORD)


@pytest.fixture
def outbox():
    ConsoleBackend.outbox.clear()
    yield ConsoleBackend.outbox
    ConsoleBackend.outbox.clear()


@pytest.fixture
def enqueued(monkeypatch):
    """What would go to the broker: (label id, countdown) per SMS task."""
    calls = []
    monkeypatch.setattr(
        send_verdict_sms, "apply_async", lambda args, countdown=0, **kw: calls.append((args[0], countdown))
    )
    return calls


@pytest.fixture
def africastalking(settings):
    settings.SMS_BACKEND = "classifier.sms.backends.AfricasTalkingBackend"
    settings.AFRICASTALKING_USERNAME = "sandbox"
    settings.AFRICASTALKING_API_KEY = "atsk_test_key"
    settings.AFRICASTALKING_SENDER_ID = "LEAFDOC"
    with responses.RequestsMock() as mock:
        yield mock


def answer(status_code=101, status="Success", number=PHONE, message_id="ATXid_1"):
    recipient = {
        "statusCode": status_code,
        "number": number,
        "status": status,
        "cost": "UGX 30",
        "messageId": message_id,
    }
    return {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: UGX 30", "Recipients": [recipient]}}


# -- the text --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "cgg", "rw"])
@pytest.mark.parametrize("label", [*[key for key in ADVICE if key not in {"unsure", "general"}], ""])
def test_every_verdict_fits_one_plain_sms_with_its_link(settings, language, label):
    settings.PUBLIC_URL = "https://leafdoctor.kabale.go.ug"
    submission_id = "0b9a2a52-7f4e-4d0e-9a53-1b0c7c3f0f8e"
    text = verdict_sms(submission_id, label, language)
    assert len(text) <= SMS_LENGTH
    assert text.isascii()
    assert text.endswith(f"https://leafdoctor.kabale.go.ug/s/{submission_id}/")


def test_the_sms_is_in_the_farmers_language():
    english = verdict_sms("0b9a2a52-7f4e-4d0e-9a53-1b0c7c3f0f8e", "late_blight", "en")
    rukiga = verdict_sms("0b9a2a52-7f4e-4d0e-9a53-1b0c7c3f0f8e", "late_blight", "cgg")
    assert english.startswith("Leaf doctor: an officer checked your photo: Late blight. What to do: ")
    assert rukiga.startswith("Leaf doctor: omuhabuzi akeebere ekishushani kyawe: ")


# -- which numbers: the regions served, a few uploads per number a day -------------------------------


def upload(client, phone, **extra):
    image = SimpleUploadedFile("leaf.jpg", jpeg_bytes(), content_type="image/jpeg")
    return client.post("/api/v1/submissions", {"image": image, "phone": phone}, **extra)


@pytest.mark.parametrize("number", ["+12025550123", "+447911123456", "+8613800138000"])
def test_numbers_outside_the_regions_served_are_refused(client, number):
    response = upload(client, number)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["phone"]
    assert "only to local numbers" in response.json()["error"]
    assert not Submission.objects.exists()


def test_ugandan_numbers_are_accepted_and_the_regions_are_a_setting(client, settings):
    assert upload(client, "0772 123456").status_code == 202
    assert upload(client, "+256 772 123457").status_code == 202
    assert sorted(Submission.objects.values_list("phone", flat=True)) == ["+256772123456", "+256772123457"]
    settings.SMS_REGIONS = ["UG", "RW"]
    assert upload(client, "+250788123456").status_code == 202


def test_a_number_rides_on_a_few_uploads_a_day_then_the_farmer_is_told(client, settings):
    settings.SMS_UPLOADS_PER_NUMBER_PER_DAY = 3
    assert [upload(client, PHONE).status_code for _ in range(3)] == [202, 202, 202]
    refused = upload(client, "0772 123456")  # the same number, written another way
    assert refused.status_code == 400 and "Too many photos with this number today" in refused.json()["error"]
    Submission.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert upload(client, PHONE).status_code == 202  # a day later
    assert upload(client, "+256772000001").status_code == 202 and upload(client, "").status_code == 202
    page = client.post("/?lang=rw", {"image": SimpleUploadedFile("l.jpg", jpeg_bytes()), "phone": "+12025550123"})
    assert page.status_code == 400 and 'name="phone"' in page.content.decode()
    assert "only to local numbers" not in page.content.decode()  # said in Kinyarwanda


def test_a_number_stored_outside_the_regions_is_never_texted(active_model, reviewer, outbox, enqueued):
    verdict = label_services.label_submission(
        diagnosed(active_model, phone="+12025550123").pk, reviewer, label="healthy"
    )
    assert sms.send_verdict_sms(verdict.pk) == "failed"
    assert outbox == [] and "SMS_REGIONS" in SmsMessage.objects.get().error


def test_the_console_backend_logs_masked_numbers(caplog):
    with caplog.at_level("INFO", logger="classifier.sms.backends"):
        ConsoleBackend().send(PHONE, "hello")
    assert "SMS to +256******456: hello" in caplog.text and "772123456" not in caplog.text


# -- scheduling: after the commit, with a delay; one SMS per verdict ----------------------------------


def test_a_verdict_schedules_its_sms_after_commit_with_the_delay(
    active_model,
    reviewer,
    enqueued,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.SMS_DELAY_SECONDS = 60
    with_phone = diagnosed(active_model, confidence=0.4, phone=PHONE)
    without = diagnosed(active_model, confidence=0.4)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        verdict = label_services.label_submission(with_phone.pk, reviewer, label="healthy")
        label_services.label_submission(without.pk, reviewer, label="healthy")
    assert enqueued == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [(verdict.pk, 60)]


def test_bulk_confirm_schedules_one_sms_per_farmer_with_a_number(
    active_model,
    reviewer,
    enqueued,
    django_capture_on_commit_callbacks,
):
    photos = [diagnosed(active_model, phone=PHONE), diagnosed(active_model), diagnosed(active_model, phone=PHONE)]
    with django_capture_on_commit_callbacks(execute=True):
        assert label_services.bulk_confirm([p.pk for p in photos], reviewer).confirmed == 3
    assert sorted(label_id for label_id, _ in enqueued) == sorted(
        Label.objects.filter(submission__phone=PHONE).values_list("pk", flat=True)
    )


def test_two_verdicts_within_the_delay_send_one_sms_the_latest(active_model, reviewer, outbox, enqueued):
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE, language="en")
    first = label_services.label_submission(submission.pk, reviewer, label="early_blight")
    second = label_services.label_submission(submission.pk, reviewer, label="late_blight")
    # Both tasks run after the delay: the first finds its verdict replaced.
    assert sms.send_verdict_sms(first.pk) == "superseded"
    assert sms.send_verdict_sms(second.pk) == "sent"
    assert len(outbox) == 1 and outbox[0][0] == PHONE and "Late blight" in outbox[0][1]
    assert SmsMessage.objects.get().label_id == second.pk


def test_a_redelivered_task_sends_nothing_more(active_model, reviewer, outbox, enqueued):
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    assert sms.send_verdict_sms(verdict.pk) == "sent"
    assert sms.send_verdict_sms(verdict.pk) == "sent"
    message = SmsMessage.objects.get()
    assert len(outbox) == 1 and message.attempts == 1 and message.sent_at is not None
    assert message.provider_message_id.startswith("console-")


def test_a_message_claimed_by_another_delivery_is_not_sent_again(active_model, reviewer, outbox, enqueued):
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    SmsMessage.objects.create(
        label=verdict, submission=submission, language="en", body="x", backend="console", status="sending"
    )
    assert sms.send_verdict_sms(verdict.pk) == "sending"
    assert outbox == []


def test_a_correction_after_the_sms_went_sends_the_new_verdict(active_model, reviewer, outbox, enqueued):
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    first = label_services.label_submission(submission.pk, reviewer, label="healthy")
    sms.send_verdict_sms(first.pk)
    second = label_services.label_submission(submission.pk, reviewer, reject_reason="unusable")
    assert sms.send_verdict_sms(second.pk) == "sent"
    assert [body.split(":")[1].strip() for _, body in outbox] == [
        "an officer checked your photo",
        "an officer could not use your photo. Please send a new one",
    ]


# -- Africa's Talking, intercepted at the HTTP transport ------------------------------------------------


def test_africastalking_gets_exactly_the_request_its_sdk_documents(
    africastalking,
    active_model,
    reviewer,
    enqueued,
    settings,
):
    settings.PUBLIC_URL = "https://leafdoctor.example"
    africastalking.post(SANDBOX_URL, json=answer(), status=201)
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE, language="rw")
    verdict = label_services.label_submission(submission.pk, reviewer, label="late_blight")

    assert sms.send_verdict_sms(verdict.pk) == "sent"
    (call,) = africastalking.calls
    request = call.request
    assert request.method == "POST" and request.url == SANDBOX_URL
    assert request.headers["apiKey"] == "atsk_test_key" and request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body)
    body = verdict_sms(submission.pk, "late_blight", "rw")
    assert form == {
        "username": ["sandbox"],
        "to": [PHONE],
        "message": [body],
        "bulkSMSMode": ["1"],
        "from": ["LEAFDOC"],
    }
    assert body.startswith("Leaf doctor: umujyanama yasuzumye ifoto yawe:")
    message = SmsMessage.objects.get()
    assert (message.status, message.provider_message_id, message.backend) == ("sent", "ATXid_1", "africastalking")


def test_a_number_the_provider_refuses_fails_for_good_and_keeps_the_verdict(
    africastalking,
    active_model,
    reviewer,
    enqueued,
):
    africastalking.post(SANDBOX_URL, json=answer(403, "InvalidPhoneNumber"), status=201)
    submission = diagnosed(active_model, confidence=0.4, phone="+256700000000")
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    assert send_verdict_sms.apply(args=[verdict.pk]).get() == "failed"
    assert len(africastalking.calls) == 1  # no retry: it cannot work
    message = SmsMessage.objects.get()
    assert message.status == "failed" and "403 InvalidPhoneNumber" in message.error
    assert Label.objects.get(pk=verdict.pk).is_current


def test_missing_credentials_keep_the_sms_waiting_say_so_and_send_once_fixed(
    africastalking, active_model, reviewer, enqueued, settings, client, admin_client
):
    """A configuration error is not the farmer's number's fault: the SMS waits, /healthz and the
    admin say why, and it goes once the configuration is fixed."""
    settings.AFRICASTALKING_API_KEY = ""
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    assert send_verdict_sms.apply(args=[verdict.pk]).get() == "waiting"
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts, message.backend) == ("queued", 0, "africastalking")
    assert "AFRICASTALKING_API_KEY" in message.error and len(africastalking.calls) == 0
    health = client.get("/healthz")
    assert health.status_code == 200 and "AFRICASTALKING_API_KEY" in health.json()["warnings"]["sms"]
    page = admin_client.get("/admin/classifier/smsmessage/").content.decode()
    assert "No SMS can be sent" in page and "1 queued message(s) wait" in page
    later = timezone.now() + timedelta(hours=1)
    assert sms.resend_lost_verdict_sms(now=later) == 0  # nothing to gain while it is broken

    settings.AFRICASTALKING_API_KEY = "atsk_test_key"  # fixed (and the processes restarted)
    africastalking.post(SANDBOX_URL, json=answer(), status=201)
    assert "warnings" not in client.get("/healthz").json()
    assert sms.resend_lost_verdict_sms(now=later) == 1 and enqueued == [(verdict.pk, 0)]
    assert send_verdict_sms.apply(args=[verdict.pk]).get() == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("sent", 1, "")


def test_provider_errors_are_retried_until_it_answers(africastalking, active_model, reviewer, enqueued):
    africastalking.post(SANDBOX_URL, body="Internal error", status=500)
    africastalking.post(SANDBOX_URL, json=answer(500, "InternalServerError"), status=201)
    africastalking.post(SANDBOX_URL, json=answer(), status=201)
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    send_verdict_sms.apply(args=[verdict.pk])  # eager: each retry runs at once
    assert len(africastalking.calls) == 3
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts, message.error) == ("sent", 3, "")


def test_after_the_last_retry_admins_see_the_failure(africastalking, active_model, reviewer, enqueued, admin_client):
    africastalking.post(SANDBOX_URL, body="Service unavailable", status=503)
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE)
    verdict = label_services.label_submission(submission.pk, reviewer, label="healthy")
    assert send_verdict_sms.apply(args=[verdict.pk]).get() == "failed"
    assert len(africastalking.calls) == send_verdict_sms.max_retries + 1
    message = SmsMessage.objects.get()
    assert message.status == "failed" and "Service unavailable" in message.error
    page = admin_client.get("/admin/classifier/smsmessage/?status__exact=failed").content.decode()
    assert "Service unavailable" in page and "772123456" not in page


def test_backoff_grows_from_half_a_minute_to_an_hour(monkeypatch):
    countdowns = []

    def record(exc=None, countdown=None, **kwargs):
        countdowns.append(countdown)
        raise RuntimeError("stop")

    def provider_down(label_id):
        raise OSError("down")

    monkeypatch.setattr(send_verdict_sms._get_current_object(), "retry", record)
    monkeypatch.setattr(sms, "send_verdict_sms", provider_down)
    for retries in (0, 1, 2, 7):
        send_verdict_sms.push_request(retries=retries)
        with pytest.raises(RuntimeError):
            send_verdict_sms.run(1)
        send_verdict_sms.pop_request()
    assert countdowns == [30, 60, 120, 3600]


# -- lost tasks, and erasing the numbers ----------------------------------------------------------------


def test_the_sweeper_enqueues_verdicts_whose_task_was_lost(active_model, reviewer, enqueued, settings):
    settings.SMS_DELAY_SECONDS, settings.SMS_LOST_AFTER_SECONDS = 60, 600
    lost = label_services.label_submission(diagnosed(active_model, phone=PHONE).pk, reviewer, reject_reason="unusable")
    recent = label_services.label_submission(
        diagnosed(active_model, phone=PHONE).pk, reviewer, reject_reason="unusable"
    )
    sent = label_services.label_submission(diagnosed(active_model, phone=PHONE).pk, reviewer, reject_reason="unusable")
    label_services.label_submission(diagnosed(active_model).pk, reviewer, reject_reason="unusable")  # no number
    Label.objects.filter(pk__in=[lost.pk, sent.pk]).update(created_at=timezone.now() - timedelta(minutes=15))
    sms.send_verdict_sms(sent.pk)
    enqueued.clear()
    assert sms.resend_lost_verdict_sms() == 1
    assert enqueued == [(lost.pk, 0)]
    assert recent.pk not in [label_id for label_id, _ in enqueued]


@pytest.mark.parametrize("variable, interval", [(None, 300.0), ("20", 20.0)])
def test_how_often_the_sms_sweeper_looks_is_a_setting(variable, interval):
    env = {name: value for name, value in os.environ.items() if name != "SMS_SWEEP_INTERVAL_SECONDS"}
    env |= {"SMS_SWEEP_INTERVAL_SECONDS": variable} if variable else {}
    code = "from webapp.settings import test; print(test.CELERY_BEAT_SCHEDULE['resend-lost-verdict-sms']['schedule'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[-1]) == interval


def test_a_retry_lost_with_its_worker_is_sent_again_with_its_attempts_counted(
    africastalking, active_model, reviewer, enqueued
):
    africastalking.post(SANDBOX_URL, body="Service unavailable", status=503)
    africastalking.post(SANDBOX_URL, json=answer(), status=201)
    verdict = label_services.label_submission(diagnosed(active_model, phone=PHONE).pk, reviewer, label="healthy")
    with pytest.raises(TemporarySmsError):
        sms.send_verdict_sms(verdict.pk)  # the task would retry in 30 s; its worker and Redis are lost
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts) == ("queued", 1)
    due = message.next_attempt_at
    assert sms.resend_lost_verdict_sms(now=due) == 0  # its own retry may still come
    assert sms.resend_lost_verdict_sms(now=due + timedelta(minutes=11)) == 1
    assert enqueued == [(verdict.pk, 0)]
    assert sms.send_verdict_sms(verdict.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(africastalking.calls)) == ("sent", 2, 2)


def test_a_message_still_stuck_after_its_last_try_fails_visibly(active_model, reviewer, enqueued, settings):
    verdict = label_services.label_submission(diagnosed(active_model, phone=PHONE).pk, reviewer, label="healthy")
    long_ago = timezone.now() - timedelta(hours=2)
    message = SmsMessage.objects.create(
        label=verdict, submission=verdict.submission, language="en", body="x", backend="console",
        status="sending", attempts=settings.SMS_MAX_ATTEMPTS, next_attempt_at=long_ago,
    )  # fmt: skip
    assert sms.resend_lost_verdict_sms() == 0 and enqueued == []
    message.refresh_from_db()
    assert message.status == "failed" and f"Gave up after {settings.SMS_MAX_ATTEMPTS} tries" in message.error


def test_numbers_are_erased_days_after_the_sms_went(active_model, reviewer, enqueued, settings):
    settings.SMS_PHONE_RETENTION_DAYS, settings.SMS_PHONE_MAX_DAYS = 30, 90
    now = timezone.now()
    old_sent, new_sent, failed, waiting, ancient = (diagnosed(active_model, phone=PHONE) for _ in range(5))
    for photo, status, when in [
        (old_sent, "sent", now - timedelta(days=31)),
        (new_sent, "sent", now - timedelta(days=29)),
        (failed, "failed", now - timedelta(days=31)),
    ]:
        verdict = label_services.label_submission(photo.pk, reviewer, label="healthy")
        SmsMessage.objects.create(
            label=verdict,
            submission=photo,
            language="en",
            body="x",
            backend="console",
            status=status,
            created_at=when,
            sent_at=when if status == "sent" else None,
        )
    Submission.objects.filter(pk=ancient.pk).update(created_at=now - timedelta(days=91))

    assert sms.forget_phone_numbers() == 3
    phones = dict(Submission.objects.values_list("pk", "phone"))
    assert phones[old_sent.pk] == phones[failed.pk] == phones[ancient.pk] == ""
    assert phones[new_sent.pk] == phones[waiting.pk] == PHONE
    assert sms.forget_phone_numbers() == 0


# -- the console backend through a real worker ---------------------------------------------------------


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_verdict_reaches_the_console_outbox_through_a_real_worker(
    client, reviewer, active_model, celery_worker_process, settings
):
    settings.SMS_DELAY_SECONDS = 0
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE, language="cgg")
    client.force_login(reviewer)
    client.post(f"/dashboard/s/{submission.pk}/label", {"label": "late_blight", "q": ""})
    verdict = Label.objects.get(submission=submission)

    wait_until(lambda: SmsMessage.objects.filter(status="sent").exists(), 30, celery_worker_process.log_path)
    message = SmsMessage.objects.get()
    assert (message.label_id, message.language, message.backend, message.attempts) == (verdict.pk, "cgg", "console", 1)
    assert message.body == verdict_sms(submission.pk, "late_blight", "cgg")
    masked_line = f"SMS to +256******456: {message.body}"
    wait_until(lambda: masked_line in celery_worker_process.log_path.read_text(), 10)
    assert "772123456" not in celery_worker_process.log_path.read_text()  # the log outlives the erasure

    # Delivered again (as after a worker was lost): both runs finish, and no second SMS goes.
    log_path = celery_worker_process.log_path
    wait_until(lambda: finished_task_runs(log_path, "send_verdict_sms") >= 1, 10)
    before = finished_task_runs(log_path, "send_verdict_sms")
    sms.enqueue_verdict_sms(verdict.pk)
    sms.enqueue_verdict_sms(verdict.pk)
    wait_until(lambda: finished_task_runs(log_path, "send_verdict_sms") == before + 2, 30, log_path)
    log = log_path.read_text()
    assert log.count(masked_line) == 1
    assert SmsMessage.objects.get().attempts == 1


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_an_sms_the_sweeper_sends_again(
    reviewer, active_model, celery_worker_process, redis_url, media_root, tmp_path, monkeypatch, settings
):
    """At least once: ``kill -9`` of the worker while the provider is being called leaves the row
    ``sending``; past the timeout the sweeper sends it again, and attempts count both tries."""
    monkeypatch.setattr(label_services, "schedule_verdict_sms", lambda label_id: None)  # enqueued by hand below
    submission = diagnosed(active_model, confidence=0.4, phone=PHONE, language="en")
    verdict = label_services.label_submission(submission.pk, reviewer, label="late_blight")
    hanging = WorkerProcess(
        redis_url, media_root, tmp_path / "hanging.log", queues="sms-hanging",
        SMS_BACKEND="tests.sms_backends.HangingBackend",
    )  # fmt: skip
    try:
        hanging.wait_ready()
        send_verdict_sms.apply_async(args=[verdict.pk], queue="sms-hanging")
        wait_until(lambda: "hanging while sending" in hanging.log_path.read_text(), 30, hanging.log_path)
        hanging.processes.kill("hanging")  # kill -9, worker and pool process
    finally:
        hanging.stop()
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts, message.backend) == ("sending", 1, "hanging")

    assert sms.resend_lost_verdict_sms() == 0  # within the timeout it may still answer
    past_timeout = timezone.now() + timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS + 1)
    assert sms.resend_lost_verdict_sms(now=past_timeout) == 1
    log_path = celery_worker_process.log_path
    wait_until(lambda: SmsMessage.objects.get().status == "sent", 30, log_path)
    message.refresh_from_db()
    assert (message.attempts, message.backend) == (2, "console")
    assert message.error == ""
    wait_until(lambda: f"SMS to +256******456: {message.body}" in log_path.read_text(), 10, log_path)
