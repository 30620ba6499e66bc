"""What production has and the suite needs, provided before Django loads its settings.

pyproject.toml loads this as a pytest plugin (``-p tests.environment``), which runs before
pytest-django imports the settings, so the settings that ship see a real environment:

- ``REDIS_URL``: TEST_REDIS_URL or REDIS_URL when set, else database 9 of the machine's Redis on
  127.0.0.1:6379, else an embedded Redis started here (and stopped at exit). Cache, rate limit and
  Celery all use it, as in production; child processes inherit it.
- the collected static files (``collectstatic``), which production's WhiteNoise serves.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETTINGS = "webapp.settings.test"
TEST_REDIS_DB = 9


def _redis_url() -> str:
    from webapp.embedded_redis import EmbeddedRedis, redis_answers

    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        return url
    machine = "redis://127.0.0.1:6379"
    if redis_answers(f"{machine}/0"):
        return f"{machine}/{TEST_REDIS_DB}"
    embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="test-redis-")) / "redis.db")
    atexit.register(embedded.stop)
    return embedded.url


# Before anything imports ``webapp``: its Celery app defaults the settings to production's.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
os.environ["REDIS_URL"] = _redis_url()
subprocess.run(
    [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
    cwd=REPO,
    env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
    check=True,
)
