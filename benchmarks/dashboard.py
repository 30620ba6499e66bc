"""Server time of the officers' dashboard pages with many submissions (50,000 by default).

    python benchmarks/dashboard.py                    # seeds var/bench/ once, then measures
    python benchmarks/dashboard.py --count 50000 --repeat 40 --json

It uses its own SQLite database and media folder under var/bench/ (unless DATABASE_URL and
MEDIA_ROOT are set, e.g. to measure on PostgreSQL), seeds them with
``manage.py seed_submissions`` the first time, and reuses them afterwards. Each page is requested
in-process with Django's test Client as a signed-in officer: the time is the server's (URL
routing, middleware, queries, template rendering), without network. Prints median and p95 per
page and the number of SQL queries each page makes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH_DIR = REPO / "var" / "bench"
BENCH_DIR.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{BENCH_DIR / 'dashboard.sqlite3'}")
os.environ.setdefault("MEDIA_ROOT", str(BENCH_DIR / "media"))
# Plain static files storage: no collectstatic needed to render pages.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from classifier import seeding  # noqa: E402
from classifier.labels import selectors as label_selectors  # noqa: E402
from classifier.labels.selectors import QueueFilters  # noqa: E402
from classifier.registry import selectors as registry_selectors  # noqa: E402
from classifier.registry.services import ensure_default_model  # noqa: E402
from webapp.dashboard.accounts import create_officer  # noqa: E402

LIMIT_MS = 300


def prepare(count: int) -> None:
    call_command("migrate", verbosity=0)
    ensure_default_model(settings.DEFAULT_MODEL_DIR)
    missing = count - seeding.seeded_count()
    if missing > 0:
        print(f"seeding {missing} submissions…", file=sys.stderr)
        started = time.monotonic()
        seeding.seed_submissions(missing, registry_selectors.active_model_version(), seed=count)
        print(f"seeded in {time.monotonic() - started:.1f} s", file=sys.stderr)


def pages() -> list[tuple[str, str]]:
    first = label_selectors.review_queue(QueueFilters()).values_list("submission_id", flat=True).first()
    today = timezone.localdate()
    half_year = (today - timezone.timedelta(weeks=26)).isoformat()
    queue = reverse("dashboard:queue")
    result = [
        ("queue", queue),
        ("queue, page 200", f"{queue}?page=200"),
        ("queue, filtered", f"{queue}?district=kabale&predicted=late_blight&date_from={half_year}"),
        ("queue, reviewed", f"{queue}?status=corrected"),
        ("reports, 12 weeks", reverse("dashboard:reports")),
        ("reports, 26 weeks", f"{reverse('dashboard:reports')}?date_from={half_year}"),
        ("reports, a district", f"{reverse('dashboard:reports')}?district=kisoro&date_from={half_year}"),
        ("agreement", reverse("dashboard:agreement")),
        ("classes", reverse("dashboard:classes")),
    ]
    if first:
        result.insert(4, ("review page", reverse("dashboard:review", args=[first])))
        result.append(("thumbnail (cached)", reverse("dashboard:thumbnail", args=[first])))
    return result


def measure(client: Client, url: str, repeat: int) -> dict:
    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        else:
            response.content  # noqa: B018

    for _ in range(3):  # warm caches (templates, thumbnails, SQLite pages)
        fetch()
    with CaptureQueriesContext(connection) as queries:
        fetch()
    query_count = len(queries)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "queries": query_count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--export", action="store_true", help="also time the full CSV export (slow by nature)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    prepare(args.count)
    officer = create_officer("bench-officer", "a long bench password 1")
    client = Client()
    client.force_login(officer)
    vendor = connection.vendor
    total = seeding.seeded_count()
    results = {}
    for name, url in pages():
        results[name] = measure(client, url, args.repeat)
    if args.export:
        results["CSV export (all rows)"] = measure(client, reverse("dashboard:export"), 3)

    if args.json:
        print(json.dumps({"submissions": total, "database": vendor, "pages": results}))
    else:
        print(f"{total} seeded submissions, {vendor}, {args.repeat} requests per page after 3 warm-ups")
        print(f"{'page':<24}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'queries':>9}")
        for name, row in results.items():
            flag = "" if row["p95_ms"] < LIMIT_MS or name.startswith("CSV") else "  over 300 ms"
            print(f"{name:<24}{row['median_ms']:>10}{row['p95_ms']:>9}{row['max_ms']:>9}{row['queries']:>9}{flag}")
    slow = [n for n, r in results.items() if r["p95_ms"] >= LIMIT_MS and not n.startswith("CSV")]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
