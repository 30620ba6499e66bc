"""The command lines of the service's processes, shared by ``runstack``, the tests and the benchmarks."""

from __future__ import annotations

import sys


def web_command(host: str = "127.0.0.1", port: int = 8000, workers: int = 2, threads: int = 4) -> list[str]:
    """gunicorn with threaded workers (keep-alive for pages that poll)."""
    return [
        sys.executable, "-m", "gunicorn", "webapp.wsgi",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--access-logfile", "-",
    ]  # fmt: skip


def worker_command(queues: str = "inference", concurrency: int = 2, name: str = "inference@%h", loglevel="info"):
    """A Celery worker; the inference queue never shares a worker with the training queue."""
    return [
        sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", queues,
        "--concurrency", str(concurrency), "-n", name, "-l", loglevel,
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def beat_command(loglevel: str = "info") -> list[str]:
    """Celery beat with the database scheduler (schedules are editable in the admin)."""
    return [sys.executable, "-m", "celery", "-A", "webapp", "beat", "-l", loglevel]
