"""Load test on loopback: N simulated farmers upload real field photos for M minutes, in two phases
on the same stack, one after the other, so their figures compare within one run:

- ``poll`` (how the page worked before issue 26): upload, then ask the API for the answer every 250 ms;
- ``wait`` (the page now): upload with ``?wait=2``; the answer comes in the upload's response when the
  worker has it in time, else the farmer polls as above.

Each photo is what the page sends first: the small copy (longest side ``SMALL_SIDE``, JPEG
``SMALL_QUALITY``, static/js/photos.js). Starts its own stack (gunicorn, 2 inference worker processes,
a Redis server of its own, and PostgreSQL when one answers on 127.0.0.1:5432, else SQLite) and reports
per phase: photos diagnosed per second, upload-to-answer p50/p95, answers in the upload's response,
errors, lost submissions, and CPU milliseconds per photo for web, broker, worker, database and the load
generator itself.

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


SMALL_SIDE = 384  # static/js/photos.js
SMALL_QUALITY = 80


@dataclass
class Results:
    submitted: dict[str, float] = field(default_factory=dict)  # id -> wall time the upload started
    seen_done_ms: list[float] = field(default_factory=list)
    in_response: int = 0
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


def farmer(url: str, photos: list[bytes], stop_at: float, results: Results, seed: int, wait: bool) -> None:
    client = Client(url)
    rng = random.Random(seed)
    bodies = [multipart(photo) for photo in photos]
    path = "/api/v1/submissions?wait=2" if wait else "/api/v1/submissions"
    while time.time() < stop_at:
        body, headers = rng.choice(bodies)
        started = time.time()
        try:
            status, content = client.request("POST", path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            results.errors.append(f"upload: {error}")
            continue
        if status not in (201, 202):
            results.errors.append(f"upload: HTTP {status}")
            continue
        submission_id = json.loads(content)["id"]
        with results.lock:
            results.submitted[submission_id] = started
        if status == 201:  # the answer came in the upload's response
            with results.lock:
                results.in_response += 1
            results.seen_done_ms.append((time.time() - started) * 1000)
            continue
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


def small_copies(folder: Path, count: int) -> list[bytes]:
    """``count`` field photos as the page sends them first (its small copy)."""
    import io

    from PIL import Image, ImageOps

    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    copies = []
    for path in random.Random(0).sample(paths, min(count, len(paths))):
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((SMALL_SIDE, SMALL_SIDE), Image.Resampling.BILINEAR)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=SMALL_QUALITY)
            copies.append(buffer.getvalue())
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description="Load test on loopback")
    parser.add_argument("--farmers", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=1.0, help="per phase")
    parser.add_argument("--phases", nargs="+", default=["poll", "wait"], choices=["poll", "wait"])
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

    photos = small_copies(Path(settings.DATA_ROOT) / "field-potato", 60)
    mean_kb = statistics.mean(len(photo) for photo in photos) / 1024
    web = service.start_web(workers=args.web_workers, threads=4, loglevel="warning")
    worker = service.start_worker("worker", args.inference_workers, loglevel="warning")
    url = service.url
    print(f"database: {env['DATABASE_URL'].split('://')[0]}; {args.farmers} farmers, {args.minutes} min per phase; "
          f"{len(photos)} field photos as small copies ({SMALL_SIDE} px, mean {mean_kb:.0f} KB)")  # fmt: skip
    groups = {"web": [web.pid], "broker": [service.redis.pid], "worker": [worker.pid], "database": postgres_pids(),
              "load generator": [os.getpid()]}  # fmt: skip

    def cpu_now() -> dict[str, float]:
        # The load generator is this process alone: the stack's processes are its children.
        return {name: cpu_seconds(pids, with_children=name != "load generator") for name, pids in groups.items()}

    # Warm up: every worker process loads the model before anything is timed.
    phase(url, photos[:4], args.farmers, 5 / 60, wait=False)
    rows = {}
    for name in args.phases:
        before = cpu_now()
        results, elapsed = phase(url, photos, args.farmers, args.minutes, wait=name == "wait")
        after = cpu_now()
        time.sleep(5)  # late answers land before they are counted
        rows[name] = summary(results, elapsed, {group: after[group] - before[group] for group in groups})
    service.stop()
    report(rows, list(groups))


def phase(url: str, photos: list[bytes], farmers: int, minutes: float, wait: bool) -> tuple[Results, float]:
    results = Results()
    started = time.time()
    stop_at = started + minutes * 60
    threads = [
        threading.Thread(target=farmer, args=(url, photos, stop_at, results, seed, wait)) for seed in range(farmers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.time() - started


def summary(results: Results, elapsed: float, cpu: dict[str, float]) -> dict:
    from classifier.models import Submission

    done = Submission.objects.filter(pk__in=list(results.submitted), status="done").values_list("id", "completed_at")
    server_ms = sorted(
        (completed.timestamp() - results.submitted[str(submission_id)]) * 1000 for submission_id, completed in done
    )
    count = len(server_ms)
    seen = sorted(results.seen_done_ms)
    row = {
        "elapsed": elapsed,
        "accepted": len(results.submitted),
        "diagnosed": count,
        "lost": len(results.submitted) - count,
        "errors": len(results.errors),
        "error_examples": sorted(set(results.errors))[:3],
        "photos_per_second": count / elapsed,
        "in_response": results.in_response,
        "stored_p50": statistics.median(server_ms) if server_ms else 0.0,
        "seen_p50": statistics.median(seen) if seen else 0.0,
        "seen_p95": seen[round(0.95 * (len(seen) - 1))] if seen else 0.0,
        "cpu_ms": {group: spent * 1000 / max(count, 1) for group, spent in cpu.items()},
    }
    return row


def report(rows: dict[str, dict], groups: list[str]) -> None:
    names = list(rows)
    print(f"\nran at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores")
    line = "{:<40}" + "{:>14}" * len(names)
    print(line.format("", *names))
    print(line.format("photos diagnosed per second", *(f"{rows[n]['photos_per_second']:.1f}" for n in names)))
    print(line.format("uploads accepted", *(rows[n]["accepted"] for n in names)))
    print(line.format("lost (accepted, never diagnosed)", *(rows[n]["lost"] for n in names)))
    print(line.format("errors", *(rows[n]["errors"] for n in names)))
    print(line.format("answers in the upload's response", *(rows[n]["in_response"] for n in names)))
    print(line.format("upload to answer stored, p50 ms", *(f"{rows[n]['stored_p50']:.0f}" for n in names)))
    print(line.format("upload to answer seen, p50 ms", *(f"{rows[n]['seen_p50']:.0f}" for n in names)))
    print(line.format("upload to answer seen, p95 ms", *(f"{rows[n]['seen_p95']:.0f}" for n in names)))
    print("CPU per photo (ms):")
    for group in groups:
        print(line.format(f"  {group}", *(f"{rows[n]['cpu_ms'][group]:.1f}" for n in names)))
    totals = {n: sum(rows[n]["cpu_ms"].values()) for n in names}
    print(line.format("  all", *(f"{totals[n]:.1f}" for n in names)))
    print(line.format("  2 cores at this cost, photos/s", *(f"{2000 / max(totals[n], 1e-9):.0f}" for n in names)))
    for name in names:
        for example in rows[name]["error_examples"]:
            print(f"  {name}: e.g. {example}")


if __name__ == "__main__":
    main()
