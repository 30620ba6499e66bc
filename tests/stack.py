"""The whole service as separate processes on the test database, for tests that kill parts of it.

Its own Redis server (so it can be stopped and started on the same port), gunicorn, Celery
workers and beat, all :class:`webapp.processes.ServiceProcesses` with the test settings.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from tests.conftest import database_url_for_workers
from webapp.embedded_redis import free_port
from webapp.processes import ServiceProcesses


class Stack(ServiceProcesses):
    def __init__(self, workdir: Path, media_root: Path, **extra_env: str) -> None:
        super().__init__(log_dir=workdir)
        self.redis_port = free_port()  # REDIS_URL is known before Redis starts
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "webapp.settings.test",
                "DATABASE_URL": database_url_for_workers(),
                "MEDIA_ROOT": str(media_root),
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "PYTHONUNBUFFERED": "1",
                **extra_env,
            }
        )
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def stop(self, timeout: float = 0.5) -> None:
        """SIGTERM everything, and SIGKILL what has not exited half a second later: a stack stops once its
        test is over, and a Celery worker's warm shutdown (about 2 s) is not what these tests are about
        (tests/test_processes.py stops runstack gracefully and checks it)."""
        super().stop(timeout)

    def pool_children(self, name: str) -> list[psutil.Process]:
        return psutil.Process(self.processes[name].pid).children(recursive=True)
