"""Chaos run: farmers upload for M minutes while parts of the service are killed and restarted.

The stack runs the settings that ship (``webapp.settings.production``: the upload rate limit on,
counted in Redis; each farmer has her own address behind one trusted proxy) as separate
processes (``webapp.processes.ServiceProcesses``): gunicorn, two inference workers, Celery beat and a Redis server of
its own. At random intervals one of these happens:

- an inference worker is ``kill -9``-ed (the main process and its pool) and started again;
- Redis is stopped and started again (append-only file: queued tasks survive);
- the web process is stopped and started again.

At the end it waits for the stragglers (a task lost with a killed worker is enqueued again by the
sweeper), then checks every accepted upload: diagnosed exactly once. It prints uploads,
diagnoses, lost (must be 0), errors by kind, 5xx answers (none but a deliberate 503 allowed) and
the upload-to-diagnosis p50/p95.

    .venv/bin/python benchmarks/chaos.py --farmers 20 --minutes 10
"""

from __future__ import annotations

import argparse
import http.client
import json
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
sys.path.insert(0, str(REPO))

from benchmarks.load import Client, database_url, multipart  # noqa: E402


@dataclass
class Tally:
    submitted: dict[str, float] = field(default_factory=dict)  # id -> when the upload started
    errors: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)  # 5xx by status
    events: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


def request(client: Client, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request; a kept-alive connection the server closed meanwhile (its keep-alive timeout,
    or a restart) is opened again once, as browsers do, before it counts as no answer."""
    try:
        return client.request(method, path, body, headers)
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        return client.request(method, path, body, headers)


def farmer(url: str, photos: list[bytes], stop_at: float, tally: Tally, number: int) -> None:
    """Uploads a photo, polls for its answer each second (as the result page does), reads it for
    5 to 15 seconds, and again, until stop_at."""
    client, rng = Client(url), random.Random(number)
    address = f"41.210.{number // 256}.{number % 256}"  # what the proxy would append for her
    while time.time() < stop_at:
        body, headers = multipart(rng.choice(photos))
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


def chaos(stack, stop_at: float, tally: Tally, rng: random.Random, workers: list[str]) -> None:
    """Every 20 to 60 seconds, one fault, and the part started again."""
    restarts = Counter()
    while True:
        pause = rng.uniform(20, 60)
        if time.time() + pause > stop_at - 20:
            return
        time.sleep(pause)
        fault = rng.choice(["kill a worker", "restart redis", "restart web"])
        when = datetime.now(UTC).strftime("%H:%M:%S")
        if fault == "kill a worker":
            slot = rng.randrange(len(workers))
            stack.kill(workers[slot])
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Chaos run")
    parser.add_argument("--farmers", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    shutil.rmtree(CHAOS_DIR, ignore_errors=True)
    CHAOS_DIR.mkdir(parents=True)
    env = {
        "VAR_DIR": str(CHAOS_DIR),
        "SECRET_KEY": "chaos-run-only-" + "c" * 40,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(CHAOS_DIR / "media"),
        "DJANGO_SETTINGS_MODULE": "webapp.settings.production",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    from webapp.processes import ServiceProcesses

    stack = ServiceProcesses({**os.environ, "PYTHONUNBUFFERED": "1"}, log_dir=CHAOS_DIR)
    stack.prepare_site(collectstatic=True)
    import django

    django.setup()
    from django.conf import settings

    folders = sorted(p for p in (Path(settings.DATA_ROOT) / "plantvillage-potato").iterdir() if p.is_dir())
    photos = [p.read_bytes() for folder in folders for p in sorted(folder.iterdir())[:20]]
    tally = Tally()
    workers = ["worker0-0", "worker1-0"]
    try:
        stack.start_redis()
        stack.start_web()
        for name in workers:
            stack.start_worker(name)
        stack.start_beat()
        print(f"database: {env['DATABASE_URL'].split('://')[0]}; {args.farmers} farmers for {args.minutes} min")
        started = time.time()
        stop_at = started + args.minutes * 60
        farmers = [
            threading.Thread(target=farmer, args=(stack.url, photos, stop_at, tally, n)) for n in range(args.farmers)
        ]
        for thread in farmers:
            thread.start()
        chaos(stack, stop_at, tally, random.Random(args.seed), workers)
        for thread in farmers:
            thread.join()
        elapsed = time.time() - started
        settle = wait_for_stragglers(tally, timeout=300)
    finally:
        stack.stop()
    report(tally, elapsed, settle)


def wait_for_stragglers(tally: Tally, timeout: float) -> float:
    """Seconds until every accepted upload is done (the sweeper re-enqueues lost tasks)."""
    from classifier.models import Submission

    started = time.time()
    while time.time() - started < timeout:
        if not Submission.objects.filter(pk__in=list(tally.submitted), status="pending").exists():
            break
        time.sleep(2)
    return time.time() - started


def report(tally: Tally, elapsed: float, settle: float) -> None:
    from classifier.models import Prediction, Submission

    accepted = list(tally.submitted)
    done = dict(Submission.objects.filter(pk__in=accepted, status="done").values_list("id", "completed_at"))
    predictions = Counter(Prediction.objects.filter(submission_id__in=accepted).values_list("submission_id", flat=True))
    diagnosed_once = [pk for pk in done if predictions[pk] == 1]
    lost = len(accepted) - len(diagnosed_once)
    times = sorted((done[pk].timestamp() - tally.submitted[str(pk)]) for pk in diagnosed_once)
    print(f"\nran {elapsed:.0f} s at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; "
          f"stragglers settled in {settle:.0f} s")  # fmt: skip
    kinds = Counter(event[9:] for event in tally.events)
    print(f"faults: {len(tally.events)} ({', '.join(f'{n} {kind}' for kind, n in kinds.items())})")
    print(f"uploads accepted: {len(accepted)}; diagnosed exactly once: {len(diagnosed_once)}; lost: {lost}")
    print(f"5xx answers: {dict(tally.server_errors) or 'none'}")
    print("errors by kind (the farmer's page retries these):")
    for kind, count in tally.errors.most_common():
        print(f"  {count:5d}  {kind}")
    if times:
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"upload to diagnosis: p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.1f} s")
    if lost or set(tally.server_errors) - {503}:
        sys.exit(1)


if __name__ == "__main__":
    main()
