"""The whole service as separate processes, for tests that kill parts of it.

Its own Redis server (so it can be stopped and started), gunicorn, Celery workers and beat,
all on the test database and media folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import requests

from tests.conftest import REPO, database_url_for_workers
from webapp.embedded_redis import EmbeddedRedis, free_port
from webapp.processes import beat_command, web_command, worker_command


class Stack:
    def __init__(self, workdir: Path, media_root: Path, **extra_env: str) -> None:
        self.workdir = workdir
        self.redis_port = free_port()
        self.redis: EmbeddedRedis | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings.test",
            "DATABASE_URL": database_url_for_workers(),
            "MEDIA_ROOT": str(media_root),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_redis(self) -> None:
        self.redis = EmbeddedRedis(self.workdir / "redis" / "redis.db", port=self.redis_port)

    def stop_redis(self) -> None:
        if self.redis:
            self.redis.stop()
            self.redis = None

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        self.logs[name] = self.workdir / f"{name}.log"
        log = open(self.logs[name], "ab")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start_web(self) -> None:
        self.start("web", web_command(port=self.web_port, workers=1, threads=4))
        self.wait_until(lambda: self._answers("/healthz"), 30, "web")  # any answer: 503 is an answer

    def restart_web(self) -> None:
        """Stop the web process as a deploy does (SIGTERM, requests in flight finish) and start it again."""
        process = self.processes.pop("web")
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        self.start_web()

    def start_worker(self, name: str = "worker", concurrency: int = 1, queues: str = "inference") -> subprocess.Popen:
        process = self.start(name, worker_command(queues, concurrency, f"{name}-{self.redis_port}@localhost"))
        self.wait_until(lambda: b" ready." in self.logs[name].read_bytes(), 60, name)
        return process

    def start_beat(self) -> None:
        self.start("beat", beat_command())

    def kill(self, name: str) -> None:
        """kill -9 the process and its children, as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def pool_children(self, name: str) -> list[psutil.Process]:
        return psutil.Process(self.processes[name].pid).children(recursive=True)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.stop_redis()

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return self.logs[name].read_text(errors="replace")[-chars:] if name in self.logs else ""

    def _answers(self, path: str) -> bool:
        try:
            requests.get(self.url + path, timeout=2)
            return True
        except requests.RequestException:
            return False

    def wait_until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f"{what} not ready after {timeout}s:\n{self.log_tail(what)}")
