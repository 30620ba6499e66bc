"""The service's processes: their command lines, and one way to start, wait for and stop them.

``runstack`` (what ``make run`` starts), the tests that run the service as separate processes and
the benchmarks all go through :class:`ServiceProcesses`, so a process is started, found ready,
killed and stopped the same way everywhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def web_command(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 2, threads: int = 4, loglevel: str = "info"
) -> list[str]:
    """gunicorn with threaded workers (keep-alive for pages that poll)."""
    return [
        sys.executable, "-m", "gunicorn", "webapp.wsgi",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--access-logfile", "-", "--log-level", loglevel,
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


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether anything answers at ``url`` (an error status is an answer: the server is up)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback URLs only
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class ServiceProcesses:
    """Named child processes of the service, each in its own session, with its own log.

    Each child gets a new session, so stopping or killing one takes its children too (gunicorn's
    workers, the Celery pool), as a crash or the OOM killer would. With ``log_dir`` each child's
    output goes to ``<log_dir>/<name>.log``; without it, to this process's terminal.
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, log_dir: Path | None = None,
        host: str = "127.0.0.1", web_port: int | None = None,
    ) -> None:  # fmt: skip
        from webapp.embedded_redis import free_port

        self.env = dict(os.environ if env is None else env)
        self.log_dir = log_dir
        self.host = host
        self.web_port = web_port or free_port()
        self.redis = None
        self.redis_port: int | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.nodes: dict[str, str] = {}  # Celery node names of the workers

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    # Starting

    def start(self, name: str, command: list[str], log_path: Path | None = None) -> subprocess.Popen:
        """Start ``command`` as the process called ``name``; its output goes to its log."""
        log_path = log_path or (self.log_dir / f"{name}.log" if self.log_dir else None)
        if log_path:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.logs[name] = log_path
        with open(log_path or os.devnull, "ab") as log:  # the child keeps its own copy of the file
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=self.env,
                stdout=log if log_path else None,
                stderr=subprocess.STDOUT if log_path else None,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def prepare_site(self, collectstatic: bool = False) -> None:
        """With the service's settings: the database migrated, the static files collected (as a
        deploy does), the shipped model registered. What ``make run`` does before it starts."""
        commands = [["migrate", "--noinput", "-v0"], ["register_default_model"]]
        if collectstatic:
            commands.insert(1, ["collectstatic", "--noinput", "-v0"])
        for command in commands:
            manage = [sys.executable, "manage.py", *command]
            subprocess.run(manage, cwd=REPO, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start_redis(self, db_path: Path | None = None) -> str:
        """An embedded Redis (broker and cache) for the processes started after it.

        Started again, it comes back on the same port with the same append-only file, as a
        restarted Redis server does.
        """
        from webapp.embedded_redis import EmbeddedRedis

        self.redis = EmbeddedRedis(db_path or self.log_dir / "redis" / "redis.db", port=self.redis_port)
        self.redis_port = self.redis.port
        self.env["REDIS_URL"] = self.redis.url
        return self.redis.url

    def start_web(
        self, workers: int = 1, threads: int = 4, loglevel: str = "info", wait: float | None = 30
    ) -> subprocess.Popen:
        """gunicorn as the process ``web``; with ``wait``, returns once ``/healthz`` answers (503 is an answer)."""
        process = self.start("web", web_command(self.host, self.web_port, workers, threads, loglevel))
        if wait:
            self.wait_until(lambda: http_answers(self.url + "/healthz"), wait, "web")
        return process

    def restart_web(self) -> None:
        """Stop the web process as a deploy does (SIGTERM, requests in flight finish) and start it again."""
        self.terminate("web")
        self.start_web()

    def start_worker(
        self, name: str = "worker", concurrency: int = 1, queues: str = "inference", loglevel: str = "info",
        node: str | None = None, wait: float | None = 60,
    ) -> subprocess.Popen:  # fmt: skip
        """A Celery worker; with ``wait``, returns once it answers a ping through the broker."""
        self.nodes[name] = node = node or f"{name}-{uuid.uuid4().hex[:8]}@localhost"
        process = self.start(name, worker_command(queues, concurrency, node, loglevel))
        if wait:
            self.wait_for_worker(name, wait)
        return process

    def wait_for_worker(self, name: str, timeout: float = 60, ping_timeout: float = 0.5) -> None:
        """Wait until worker ``name`` consumes: it answers a ping on the broker in ``REDIS_URL``.

        A ping to one named worker returns as soon as it answers; ``ping_timeout`` only bounds the
        wait for a worker that is not listening yet.
        """
        from celery import Celery
        from kombu.exceptions import OperationalError

        app = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        destination = [self.nodes[name]]
        broker_errors = (OperationalError, *app.connection_for_write().connection_errors)

        def answers() -> bool:
            try:
                return bool(app.control.ping(destination, timeout=ping_timeout))
            except broker_errors:
                return False  # no broker (yet): not ready

        try:
            self.wait_until(answers, timeout, name, poll=0)
        finally:
            app.close()

    def start_beat(self, loglevel: str = "info") -> subprocess.Popen:
        return self.start("beat", beat_command(loglevel))

    # Waiting and watching

    def wait_until(self, condition: Callable[[], bool], timeout: float, name: str, poll: float = 0.05) -> None:
        """Wait for ``condition``; fail early, with the log's tail, if process ``name`` exits."""
        deadline = time.monotonic() + timeout
        process = self.processes.get(name)
        while time.monotonic() < deadline:
            if condition():
                return
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode}:\n{self.log_tail(name)}")
            time.sleep(poll)
        raise RuntimeError(f"{name} not ready after {timeout:g} s:\n{self.log_tail(name)}")

    def exited(self) -> str | None:
        """The name of a process that has exited, if any."""
        return next((name for name, process in self.processes.items() if process.poll() is not None), None)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace")[-chars:] if path and path.exists() else ""

    # Stopping

    def kill(self, name: str) -> None:
        """kill -9 the process and its children, as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        _signal_group(process, signal.SIGKILL)
        process.wait()

    def terminate(self, name: str, timeout: float = 30) -> None:
        """Stop one process as a deploy does: SIGTERM to it (work in flight finishes), then SIGKILL."""
        process = self.processes.pop(name)
        _stop_all([process], timeout)

    def stop_redis(self) -> None:
        if self.redis:
            self.redis.stop()
            self.redis = None

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM every process, SIGKILL what is left after ``timeout``, then stop Redis."""
        _stop_all(list(self.processes.values()), timeout)
        self.processes.clear()
        self.stop_redis()

    def __enter__(self) -> ServiceProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop_all(processes: list[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each leader, which stops its own children as it does in production (gunicorn lets
    requests finish, a Celery worker its tasks); after ``timeout``, or once a leader is gone,
    SIGKILL whatever is left in its session (a child orphaned by a leader that died)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(process, signal.SIGKILL)
        process.wait()
