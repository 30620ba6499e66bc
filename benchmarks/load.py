"""Load test on loopback: N simulated farmers upload real photos for M minutes.

Starts its own stack (gunicorn, 2 inference worker processes, a Redis server of its own, and
PostgreSQL when one answers on 127.0.0.1:5432, else SQLite) and reports throughput,
upload-to-diagnosis p50/p95, errors, lost submissions, and CPU seconds per submission for web,
broker, worker, database and the load generator itself. Every farmer uploads, then polls the
API for the result every 250 ms, as the result page does.

    .venv/bin/python benchmarks/load.py --farmers 12 --minutes 1
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOAD_DIR = REPO / "var" / "load"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
sys.path.insert(0, str(REPO))


@dataclass
class Results:
    submitted: dict[str, float] = field(default_factory=dict)  # id -> wall time the upload started
    seen_done_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def database_url(name: str = "potato_load", sqlite_dir: Path = LOAD_DIR) -> str:
    """A fresh PostgreSQL database ``name`` when one answers locally (each benchmark its own, so one
    never drops another's), else SQLite in ``sqlite_dir``."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    except psycopg.OperationalError:
        return f"sqlite:///{sqlite_dir / f'{name}.sqlite3'}"


class Client:
    """A keep-alive HTTP/1.1 client on http.client: the load generator must cost little CPU."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            raise


def multipart(photo: bytes, fields: dict[str, str] | None = None) -> tuple[bytes, dict]:
    """The upload form's body: the photo, and ``fields`` (``phone``, ``district``) if given."""
    boundary = "farmerboundary7d3a"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (fields or {}).items()
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="leaf.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def farmer(url: str, photos: list[bytes], stop_at: float, results: Results, seed: int) -> None:
    client = Client(url)
    rng = random.Random(seed)
    bodies = [multipart(photo) for photo in photos]
    while time.time() < stop_at:
        body, headers = rng.choice(bodies)
        started = time.time()
        try:
            status, content = client.request("POST", "/api/v1/submissions", body, headers)
        except (OSError, http.client.HTTPException) as error:
            results.errors.append(f"upload: {error}")
            continue
        if status != 202:
            results.errors.append(f"upload: HTTP {status}")
            continue
        submission_id = json.loads(content)["id"]
        with results.lock:
            results.submitted[submission_id] = started
        while time.time() < stop_at + 30:
            time.sleep(0.25)
            try:
                status, content = client.request("GET", f"/api/v1/submissions/{submission_id}")
                state = json.loads(content)["status"]
            except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
                results.errors.append(f"poll: {error}")
                break
            if state != "pending":
                if state != "done":
                    results.errors.append(f"diagnosis: {state}")
                results.seen_done_ms.append((time.time() - started) * 1000)
                break


def cpu_seconds(pids: list[int], with_children: bool = True) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for p in [process, *(process.children(recursive=True) if with_children else [])]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def postgres_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] and p.info["name"].startswith("postgres")]


def main() -> None:
    parser = argparse.ArgumentParser(description="Load test on loopback")
    parser.add_argument("--farmers", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--inference-workers", type=int, default=2)
    args = parser.parse_args()

    shutil.rmtree(LOAD_DIR, ignore_errors=True)
    LOAD_DIR.mkdir(parents=True)
    from webapp.processes import ServiceProcesses

    with ServiceProcesses(log_dir=LOAD_DIR) as service:  # stopped on Ctrl-C or an error too
        measure(args, service)


def measure(args, service) -> None:
    service.start_redis()
    env = {
        **service.env,
        "VAR_DIR": str(LOAD_DIR),
        "SECRET_KEY": "load-test-only-" + "z" * 40,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(LOAD_DIR / "media"),
        "UPLOAD_RATE_LIMIT": "",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "webapp.settings.production",
    }
    service.env = env
    os.environ.update({k: env[k] for k in ("VAR_DIR", "SECRET_KEY", "DATABASE_URL", "MEDIA_ROOT", "REDIS_URL")})
    service.prepare_site()
    import django

    django.setup()
    from django.conf import settings

    photo_dir = Path(settings.DATA_ROOT) / "plantvillage-potato"
    folders = sorted(p for p in photo_dir.iterdir() if p.is_dir())
    photos = [p.read_bytes() for folder in folders for p in sorted(folder.iterdir())[:20]]

    web = service.start_web(workers=args.web_workers, threads=4, loglevel="warning")
    worker = service.start_worker("worker", args.inference_workers, loglevel="warning")
    url = service.url
    print(f"database: {env['DATABASE_URL'].split('://')[0]}; {args.farmers} farmers for {args.minutes} min")

    results = Results()
    groups = {"web": [web.pid], "broker": [service.redis.pid], "worker": [worker.pid], "database": postgres_pids(),
              "load generator": [os.getpid()]}  # fmt: skip

    def cpu_now() -> dict[str, float]:
        # The load generator is this process alone: the stack's processes are its children.
        return {name: cpu_seconds(pids, with_children=name != "load generator") for name, pids in groups.items()}

    before = cpu_now()
    started = time.time()
    stop_at = started + args.minutes * 60
    threads = [threading.Thread(target=farmer, args=(url, photos, stop_at, results, i)) for i in range(args.farmers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - started
    after = cpu_now()

    from classifier.models import Submission

    done = Submission.objects.filter(pk__in=list(results.submitted), status="done").values_list("id", "completed_at")
    server_ms = sorted(
        (completed.timestamp() - results.submitted[str(submission_id)]) * 1000 for submission_id, completed in done
    )
    lost = len(results.submitted) - len(server_ms)
    service.stop()

    count = len(server_ms)
    print(f"\nran {elapsed:.1f} s at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores")
    accepted = len(results.submitted)
    print(f"uploads accepted: {accepted}; diagnosed: {count}; lost: {lost}; errors: {len(results.errors)}")
    for error in sorted(set(results.errors))[:5]:
        print(f"  e.g. {error}")
    print(f"throughput: {count / elapsed:.1f} diagnoses/s")
    if server_ms:
        p95 = server_ms[min(count - 1, round(0.95 * (count - 1)))]
        print(f"upload to diagnosis stored: p50 {statistics.median(server_ms):.0f} ms, p95 {p95:.0f} ms")
    if results.seen_done_ms:
        seen = sorted(results.seen_done_ms)
        print(f"upload to diagnosis seen by the polling farmer (250 ms polls): p50 {statistics.median(seen):.0f} ms, "
              f"p95 {seen[round(0.95 * (len(seen) - 1))]:.0f} ms")  # fmt: skip
    print("CPU per diagnosis (ms):")
    total = 0.0
    for name in groups:
        spent = (after[name] - before[name]) * 1000 / max(count, 1)
        total += spent
        print(f"  {name:<15} {spent:6.1f}")
    print(f"  {'all':<15} {total:6.1f}  (2 cores give {2000 / max(total, 1e-9):.0f} diagnoses/s at this cost)")


if __name__ == "__main__":
    main()
