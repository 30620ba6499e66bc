"""Where one photo's milliseconds go, on the web path and in the worker, measured in-process.

Runs N uploads of field photos' small copies through the API (Django's test client: the view, its
middleware, form, storage, database and the task's publication, without HTTP or gunicorn), then
runs the inference task on each of them in this process (the model, the database, no Celery pool).
Prints wall milliseconds per photo for each path, split by what the time was spent on (cProfile,
by the functions' own time), and the database queries per photo.

Uses a fresh PostgreSQL database when one answers on 127.0.0.1:5432 (as production), else SQLite,
and Redis at REDIS_URL (else the machine's on 6379, database 15), in a temporary folder.

    .venv/bin/python benchmarks/profile_paths.py [--photos 200]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.load import database_url, small_copies  # noqa: E402

#: Where a function's own time is counted: the first pattern its file or name contains.
BUCKETS = [
    ("model (LiteRT invoke)", ("Invoke", "SetTensor", "litert")),
    ("database (round trips)", ("psycopg", "sqlite3", "SQLiteCursorWrapper", "method 'commit'")),
    ("image decode, resize, encode", ("Imaging", "PIL/", "numpy")),
    ("broker (Redis, Celery publish)", ("redis/", "kombu/", "celery/")),
    ("storage (files)", ("posix.open", "posix.", "io.", "method 'write'", "method 'read'", "files/storage")),
    ("Django ORM (building queries)", ("django/db/",)),
    ("Django request, forms, templates", ("django/",)),
]


def bucket_times(profile: cProfile.Profile, count: int) -> dict[str, float]:
    stats = pstats.Stats(profile)
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        where = f"{filename}:{name}"
        for bucket, patterns in BUCKETS:
            if any(pattern in where for pattern in patterns):
                totals[bucket] += own
                break
        else:
            totals["other Python (this project, libraries)"] += own
    return {bucket: seconds * 1000 / count for bucket, seconds in totals.items()}


def print_table(title: str, wall_ms: float, buckets: dict[str, float], queries: float) -> None:
    print(f"\n{title}: {wall_ms:.1f} ms per photo (wall, unprofiled); {queries:.1f} database queries per photo")
    profiled = sum(buckets.values())
    for bucket, ms in sorted(buckets.items(), key=lambda item: -item[1]):
        print(f"  {bucket:<42} {ms:6.1f} ms  ({100 * ms / profiled:4.1f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="profile-paths-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="webapp.settings.production",
        VAR_DIR=str(workdir),
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url("potato_profile", workdir),
        MEDIA_ROOT=str(workdir / "media"),
        UPLOAD_RATE_LIMIT="",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="*",
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from classifier.tasks import diagnose_submission

    call_command("migrate", verbosity=0)
    call_command("register_default_model", verbosity=0)
    photos = small_copies(Path(settings.DATA_ROOT) / "field-potato", 40)
    client = Client(SERVER_NAME="localhost")

    def upload(number: int) -> str:
        image = SimpleUploadedFile("leaf.jpg", photos[number % len(photos)], content_type="image/jpeg")
        response = client.post("/api/v1/submissions", {"image": image})
        assert response.status_code == 202, response.content
        return response.json()["id"]

    half = args.photos // 2
    warm = [upload(number) for number in range(10)]
    started = time.perf_counter()
    timed = [upload(number) for number in range(half)]
    web_ms = (time.perf_counter() - started) * 1000 / half
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        profiled = [upload(number) for number in range(half)]
        profile.disable()
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; {half} photos per measure, "
          f"mean {sum(map(len, photos)) / len(photos) / 1024:.0f} KB")  # fmt: skip
    print_table("web: POST /api/v1/submissions", web_ms, bucket_times(profile, half), len(queries) / half)

    for case in warm:
        diagnose_submission(case)  # loads the model
    started = time.perf_counter()
    for case in timed:
        diagnose_submission(case)
    worker_ms = (time.perf_counter() - started) * 1000 / half
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        for case in profiled:
            diagnose_submission(case)
        profile.disable()
    print_table("worker: diagnose_submission", worker_ms, bucket_times(profile, half), len(queries) / half)


if __name__ == "__main__":
    main()
