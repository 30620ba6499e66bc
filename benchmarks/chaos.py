"""Chaos run: farmers upload for M minutes, an officer gives verdicts that go out by SMS, while
parts of the service are killed and restarted.

The stack runs the settings that ship (``webapp.settings.production``: the upload rate limit on,
counted in Redis; each farmer has her own address behind one trusted proxy) as separate
processes (``webapp.processes.ServiceProcesses``): gunicorn, two inference workers (which also run
the SMS tasks: they share the ``inference`` queue), Celery beat and a Redis server of its own.
Half the farmers leave a Ugandan number; an officer thread gives verdicts on diagnosed photos
through the real service (``label_submission``), so each verdict's SMS task goes through Redis
to a worker. The SMS backend is the console one behind a slow provider call (0.5 to 2 s,
``benchmarks/sms_backend.py``) that records each call. The SMS delay, the sweeper's interval and
its timeouts are short (``SMS_SETTINGS``) so lost messages are sent again before the run ends.
Every 20 to 60 seconds one of these happens:

- an inference worker is ``kill -9``-ed (the main process and its pool) and started again;
- a worker is ``kill -9``-ed while it is calling the SMS provider (its message row ``sending``);
- Redis is stopped and started again (append-only file: queued tasks survive);
- the web process is stopped and started again.

At the end it waits for the stragglers (a task lost with a killed worker is enqueued again by a
sweeper), then checks every accepted upload: diagnosed exactly once; and every verdict on an
upload with a number: its SMS attempted (sent, or failed with a reason), none left queued or
sending. It prints uploads, diagnoses, lost (must be 0), verdicts without an SMS attempt (must
be 0), SMS the farmer got twice (allowed: at least once), errors by kind, 5xx answers (none but a
deliberate 503 allowed) and the upload-to-diagnosis and verdict-to-SMS times.

    .venv/bin/python benchmarks/chaos.py --farmers 20 --minutes 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHAOS_DIR = REPO / "var" / "chaos"
OUTBOX = CHAOS_DIR / "sms-outbox.jsonl"
sys.path.insert(0, str(REPO))

from benchmarks.load import Client, database_url, multipart  # noqa: E402

# The chaos stack's SMS: short waits, so a message lost with a worker or Redis is sent again
# within the run's drain time; numbers ride on every upload of the run (not 5 a day).
SMS_SETTINGS = {
    "SMS_BACKEND": "benchmarks.sms_backend.SlowConsoleBackend",
    "SLOW_SMS_SECONDS": "0.5,2",
    "SMS_OUTBOX_FILE": str(OUTBOX),
    "SMS_DELAY_SECONDS": "2",
    "SMS_LOST_AFTER_SECONDS": "30",
    "SMS_SENDING_TIMEOUT_SECONDS": "30",
    "SMS_SWEEP_INTERVAL_SECONDS": "15",
    "SMS_UPLOADS_PER_NUMBER_PER_DAY": "1000",
}
FAULTS = ["kill a worker", "kill a worker mid-SMS", "restart redis", "restart web"]


@dataclass
class Tally:
    submitted: dict[str, float] = field(default_factory=dict)  # id -> when the upload started
    verdicts: dict[int, bool] = field(default_factory=dict)  # label id -> the upload had a number
    errors: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)  # 5xx by status
    events: list[str] = field(default_factory=list)
    mid_sms: Counter = field(default_factory=Counter)  # kills mid-send: before / after the provider had it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


def read_outbox(path: str | os.PathLike) -> list[dict]:
    """The events written so far (a line still being written is skipped)."""
    try:
        with open(path, encoding="utf-8") as outbox:
            lines = outbox.read().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def request(client: Client, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request; a kept-alive connection the server closed meanwhile (its keep-alive timeout,
    or a restart) is opened again once, as browsers do, before it counts as no answer."""
    try:
        return client.request(method, path, body, headers)
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        return client.request(method, path, body, headers)


def phone_of(number: int) -> str:
    """Every other farmer leaves her own Ugandan mobile number (MTN, +256 772 1xxxxx)."""
    return f"+256772{100000 + number:06d}" if number % 2 == 0 else ""


def farmer(url: str, photos: list[bytes], stop_at: float, tally: Tally, number: int) -> None:
    """Uploads a photo, polls for its answer each second (as the result page does), reads it for
    5 to 15 seconds, and again, until stop_at."""
    client, rng = Client(url), random.Random(number)
    address = f"41.210.{number // 256}.{number % 256}"  # what the proxy would append for her
    fields = {"phone": phone} if (phone := phone_of(number)) else {}
    while time.time() < stop_at:
        body, headers = multipart(rng.choice(photos), fields)
        started = time.time()
        try:
            status, content = request(
                client, "POST", "/api/v1/submissions", body, {**headers, "X-Forwarded-For": address}
            )
        except (OSError, http.client.HTTPException) as error:
            tally.error(f"upload: no answer ({type(error).__name__})")
            time.sleep(1)
            continue
        if status >= 500:
            with tally.lock:
                tally.server_errors[status] += 1
        if status != 202:
            tally.error(f"upload: HTTP {status}")
            time.sleep(1)
            continue
        submission_id = json.loads(content)["id"]
        with tally.lock:
            tally.submitted[submission_id] = started
        while time.time() < stop_at:
            time.sleep(1)
            try:
                status, content = request(client, "GET", f"/api/v1/submissions/{submission_id}")
            except (OSError, http.client.HTTPException) as error:
                tally.error(f"poll: no answer ({type(error).__name__})")
                continue
            if status >= 500:
                with tally.lock:
                    tally.server_errors[status] += 1
                continue
            if json.loads(content).get("status") != "pending":
                break
        time.sleep(rng.uniform(5, 15))  # reads the advice, walks to the next plant


def officer(stop_at: float, tally: Tally, rng: random.Random, user_id: int) -> None:
    """Every 1 to 4 seconds, a verdict on one of the oldest diagnosed photos not yet reviewed:
    the model's answer confirmed, or one time in five another class, through the service the
    dashboard uses (its SMS is enqueued once the verdict commits)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from classifier.labels.services import label_submission
    from classifier.models import LabelClass, Submission

    user = get_user_model().objects.get(pk=user_id)
    classes = list(LabelClass.objects.values_list("name", flat=True))
    try:
        while time.time() < stop_at:
            time.sleep(rng.uniform(1, 4))
            with tally.lock:
                accepted = list(tally.submitted)
            try:
                waiting = list(
                    Submission.objects.filter(pk__in=accepted, status="done", labels__isnull=True)
                    .order_by("created_at")
                    .values_list("pk", "phone", "prediction__label")[:10]
                )
                if not waiting:
                    continue
                pk, phone, predicted = rng.choice(waiting)
                verdict = label_submission(pk, user, label=predicted if rng.random() < 0.8 else rng.choice(classes))
            except Exception as error:  # counted, and the officer goes on
                tally.error(f"officer: {type(error).__name__}: {str(error)[:80]}")
                continue
            with tally.lock:
                tally.verdicts[verdict.pk] = bool(phone)
    finally:
        connection.close()


def worker_mid_send(stack, workers: list[str]) -> tuple[int, dict] | None:
    """(slot, call) of a worker calling the SMS provider now, its message row ``sending``."""
    from classifier.models import SmsMessage

    events = read_outbox(OUTBOX)
    answered = {event["call"] for event in events if event["event"] == "answered"}
    leaders = {stack.processes[name].pid: slot for slot, name in enumerate(workers) if name in stack.processes}
    for call in reversed([e for e in events if e["event"] == "calling" and e["call"] not in answered]):
        try:
            session = os.getsid(call["pid"])  # the pool process is in its worker's session
        except ProcessLookupError:
            continue  # killed with its worker earlier
        if session in leaders and SmsMessage.objects.filter(status="sending", body=call["body"]).exists():
            return leaders[session], call
    return None


def chaos(
    stack, stop_at: float, tally: Tally, rng: random.Random, workers: list[str], faults: list[str] = FAULTS
) -> None:
    """Every 20 to 60 seconds, one of ``faults``, and the part started again."""
    from django.db import connection

    from classifier.models import SmsMessage

    restarts = Counter()
    while True:
        pause = rng.uniform(20, 60)
        if time.time() + pause > stop_at - 20:
            connection.close()
            return
        time.sleep(pause)
        fault = rng.choice(faults)
        when = datetime.now(UTC).strftime("%H:%M:%S")
        if fault.startswith("kill a worker"):
            mid_send = None
            if fault == "kill a worker mid-SMS":  # wait (up to 30 s) for a worker calling the provider
                deadline = time.time() + 30
                while (mid_send := worker_mid_send(stack, workers)) is None and time.time() < deadline:
                    time.sleep(0.05)
            slot = mid_send[0] if mid_send else rng.randrange(len(workers))
            stack.kill(workers[slot])
            fault = "kill a worker"
            if mid_send and SmsMessage.objects.filter(status="sending", body=mid_send[1]["body"]).exists():
                fault = "kill a worker mid-SMS"  # the kill left its row sending: the sweeper's to resend
                had_it = any(e["call"] == mid_send[1]["call"] and e["event"] == "accepted" for e in read_outbox(OUTBOX))
                tally.mid_sms["after the provider had it" if had_it else "before the provider had it"] += 1
            restarts[slot] += 1
            workers[slot] = f"worker{slot}-{restarts[slot]}"
            time.sleep(2)
            stack.start_worker(workers[slot])
        elif fault == "restart redis":
            stack.stop_redis()
            time.sleep(3)
            stack.start_redis()
        else:
            stack.restart_web()
        tally.events.append(f"{when} {fault}")
        print(f"  {when} {fault}", flush=True)


class EnqueueFailures(logging.Filter):
    """Counts the verdicts whose SMS could not be enqueued (Redis down: the sweeper's to find)
    instead of printing their tracebacks."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("could not enqueue the SMS"):
            self.tally.error("officer: SMS not enqueued (Redis down; left to the sweeper)")
            return False
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Chaos run")
    parser.add_argument("--farmers", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    args = parser.parse_args()
    faults = [fault.strip() for fault in args.faults.split(",") if fault.strip()]
    if unknown := set(faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")

    shutil.rmtree(CHAOS_DIR, ignore_errors=True)
    CHAOS_DIR.mkdir(parents=True)
    env = {
        "VAR_DIR": str(CHAOS_DIR),
        "SECRET_KEY": "chaos-run-only-" + "c" * 40,
        "DATABASE_URL": database_url("potato_chaos", CHAOS_DIR),
        "MEDIA_ROOT": str(CHAOS_DIR / "media"),
        "DJANGO_SETTINGS_MODULE": "webapp.settings.production",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        **SMS_SETTINGS,
    }
    os.environ.update(env)
    from webapp.processes import ServiceProcesses

    stack = ServiceProcesses({**os.environ, "PYTHONUNBUFFERED": "1"}, log_dir=CHAOS_DIR)
    tally = Tally()
    workers = ["worker0-0", "worker1-0"]
    try:
        # Redis first: this process publishes the officer's SMS tasks to it too.
        os.environ["REDIS_URL"] = stack.start_redis()
        stack.prepare_site(collectstatic=True)
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model

        logging.getLogger("classifier.sms.services").addFilter(EnqueueFailures(tally))
        folders = sorted(p for p in (Path(settings.DATA_ROOT) / "plantvillage-potato").iterdir() if p.is_dir())
        photos = [p.read_bytes() for folder in folders for p in sorted(folder.iterdir())[:20]]
        officer_id = get_user_model().objects.create_user("chaos-officer").pk
        stack.start_web()
        for name in workers:
            stack.start_worker(name)
        stack.start_beat()
        print(f"database: {env['DATABASE_URL'].split('://')[0]}; {args.farmers} farmers for {args.minutes} min")
        print(
            f"SMS: {SMS_SETTINGS['SMS_BACKEND'].rsplit('.', 1)[-1]} ({SMS_SETTINGS['SLOW_SMS_SECONDS']} s a call), "
            f"delay {settings.SMS_DELAY_SECONDS} s, lost after {settings.SMS_LOST_AFTER_SECONDS} s, sending timeout "
            f"{settings.SMS_SENDING_TIMEOUT_SECONDS} s, sweeper every {SMS_SETTINGS['SMS_SWEEP_INTERVAL_SECONDS']} s",
            flush=True,
        )
        started = time.time()
        stop_at = started + args.minutes * 60
        threads = [
            threading.Thread(target=farmer, args=(stack.url, photos, stop_at, tally, n)) for n in range(args.farmers)
        ]
        threads.append(threading.Thread(target=officer, args=(stop_at, tally, random.Random(args.seed), officer_id)))
        for thread in threads:
            thread.start()
        chaos(stack, stop_at, tally, random.Random(args.seed), workers, faults)
        for thread in threads:
            thread.join()
        elapsed = time.time() - started
        settle = wait_for_stragglers(tally, timeout=300)
    finally:
        stack.stop()
    report(tally, elapsed, settle)


def sms_attempted(label_ids) -> set[int]:
    """The verdicts whose SMS was attempted: sent, or failed with its reason."""
    from django.db.models import Q

    from classifier.models import SmsMessage

    attempted = SmsMessage.objects.filter(label_id__in=list(label_ids)).filter(
        Q(status=SmsMessage.Status.SENT) | (Q(status=SmsMessage.Status.FAILED) & ~Q(error=""))
    )
    return set(attempted.values_list("label_id", flat=True))


def wait_for_stragglers(tally: Tally, timeout: float) -> float:
    """Seconds until every accepted upload is done and every verdict's SMS attempted (the
    sweepers enqueue lost tasks again)."""
    from classifier.models import Submission

    texted = [pk for pk, has_phone in tally.verdicts.items() if has_phone]
    started = time.time()
    while time.time() - started < timeout:
        pending = Submission.objects.filter(pk__in=list(tally.submitted), status="pending").exists()
        if not pending and len(sms_attempted(texted)) == len(texted):
            break
        time.sleep(2)
    return time.time() - started


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return f"p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.1f} s"


def sms_figures(verdicts: dict[int, bool], outbox: list[dict]) -> dict:
    """What became of the verdicts' SMS, from the database and the provider's record (``outbox``)."""
    from classifier.models import Label, SmsMessage

    texted = [pk for pk, has_phone in verdicts.items() if has_phone]
    rows = {row["label_id"]: row for row in SmsMessage.objects.filter(label_id__in=list(verdicts)).values()}
    attempted = sms_attempted(texted)
    given = dict(Label.objects.filter(pk__in=texted).values_list("pk", "created_at"))
    accepted = Counter(event["body"] for event in outbox if event["event"] == "accepted")
    sent = [row for pk, row in rows.items() if row["status"] == SmsMessage.Status.SENT]
    return {
        "verdicts": len(verdicts),
        "with a number": len(texted),
        "by status": Counter(rows[pk]["status"] if pk in rows else "no row" for pk in texted),
        "failure reasons": Counter(row["error"][:60] for row in rows.values() if row["status"] == "failed"),
        "without an SMS attempt": len(texted) - len(attempted),
        "texted without a number": sum(1 for pk in rows if not verdicts[pk]),
        "sent, never reached the provider": sum(1 for row in sent if not accepted[row["body"]]),
        "tried more than once": sum(1 for row in rows.values() if row["attempts"] > 1),
        "reached the farmer twice": sum(max(0, accepted[row["body"]] - 1) for row in rows.values()),
        "verdict to SMS": [(row["sent_at"] - given[row["label_id"]]).total_seconds() for row in sent],
    }


def report(tally: Tally, elapsed: float, settle: float) -> None:
    from classifier.models import Prediction, Submission

    accepted = list(tally.submitted)
    done = dict(Submission.objects.filter(pk__in=accepted, status="done").values_list("id", "completed_at"))
    predictions = Counter(Prediction.objects.filter(submission_id__in=accepted).values_list("submission_id", flat=True))
    diagnosed_once = [pk for pk in done if predictions[pk] == 1]
    lost = len(accepted) - len(diagnosed_once)
    times = [(done[pk].timestamp() - tally.submitted[str(pk)]) for pk in diagnosed_once]
    sms = sms_figures(tally.verdicts, read_outbox(OUTBOX))
    print(f"\nran {elapsed:.0f} s at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; "
          f"stragglers settled in {settle:.0f} s")  # fmt: skip
    kinds = Counter(event[9:] for event in tally.events)
    print(f"faults: {len(tally.events)} ({', '.join(f'{n} {kind}' for kind, n in kinds.items())})")
    if tally.mid_sms:
        print(f"  workers killed mid-SMS: {', '.join(f'{n} {when}' for when, n in tally.mid_sms.items())}")
    print(f"uploads accepted: {len(accepted)}; diagnosed exactly once: {len(diagnosed_once)}; lost: {lost}")
    print(f"verdicts: {sms['verdicts']}, {sms['with a number']} on uploads with a number; their SMS: "
          f"{dict(sms['by status'])}; without an SMS attempt: {sms['without an SMS attempt']}")  # fmt: skip
    for reason, count in sms["failure reasons"].most_common():
        print(f"  failed {count}: {reason}")
    print(f"SMS tried more than once: {sms['tried more than once']}; reached the farmer twice (allowed): "
          f"{sms['reached the farmer twice']}; marked sent but never given to the provider: "
          f"{sms['sent, never reached the provider']}; texted without a number: "
          f"{sms['texted without a number']}")  # fmt: skip
    print(f"5xx answers: {dict(tally.server_errors) or 'none'}")
    print("errors by kind (the farmer's page retries these; the officer's are prefixed):")
    for kind, count in tally.errors.most_common():
        print(f"  {count:5d}  {kind}")
    if times:
        print(f"upload to diagnosis: {percentiles(times)}")
    if sms["verdict to SMS"]:
        print(f"verdict to SMS sent: {percentiles(sms['verdict to SMS'])}")
    unsafe = sms["without an SMS attempt"] + sms["sent, never reached the provider"] + sms["texted without a number"]
    if lost or unsafe or set(tally.server_errors) - {503}:
        sys.exit(1)


if __name__ == "__main__":
    main()
