"""The service's processes: their command lines, and one way to start, wait for and stop them.

``runstack`` (what ``make run`` starts), the tests that run the service as separate processes and
the benchmarks all go through :class:`ServiceProcesses`, so a process is started, found ready,
killed and stopped the same way everywhere.

Every child dies with the process that started it (on Linux, ``PR_SET_PDEATHSIG``), so a ``kill -9``
of ``runstack`` (the OOM killer, a crashed terminal) leaves no gunicorn, worker, beat or Redis
behind; with a ``pid_file`` the sessions are also recorded, and :func:`end_leftovers` ends what a
stop left anyway before a new start.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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


# Run before the command, in the child: ask the kernel to SIGKILL it when its parent dies, then exec.
# (An exec'd shim rather than ``preexec_fn``, which can deadlock in a parent with threads, as the
# tests and benchmarks are.) If the parent died before the request took effect, exit at once.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0) != 0:\n"  # 1: PR_SET_PDEATHSIG
    "    raise OSError(ctypes.get_errno(), 'prctl(PR_SET_PDEATHSIG)')\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def dying_with_parent(command: list[str]) -> list[str]:
    """``command`` made to die with this process (Linux; elsewhere ``command`` unchanged).

    The kernel sends the signal when the *thread* that started the child exits, so start children
    from a thread that lives as long as they should (the main thread, as everything here does).
    """
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


def spawn(command: list[str], **popen_kwargs) -> subprocess.Popen:
    """Start ``command`` in a session of its own (stopping it stops its children; the terminal's
    Ctrl-C reaches only the parent, which stops the children in order), dying with this process."""
    return subprocess.Popen(dying_with_parent(command), start_new_session=True, **popen_kwargs)


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
    workers, the Celery pool), as a crash or the OOM killer would; each dies with this process
    (:func:`spawn`). With ``log_dir`` each child's output goes to ``<log_dir>/<name>.log``; without
    it, to this process's terminal. With ``pid_file`` the children's sessions are written there
    while they run (for :func:`end_leftovers`) and the file is removed by :meth:`stop`.
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, log_dir: Path | None = None,
        host: str = "127.0.0.1", web_port: int | None = None, pid_file: Path | None = None,
    ) -> None:  # fmt: skip
        from webapp.embedded_redis import free_port

        self.env = dict(os.environ if env is None else env)
        self.log_dir = log_dir
        self.host = host
        self.web_port = web_port or free_port()
        self.pid_file = pid_file
        self.redis = None
        self.redis_port: int | None = None
        self.redis_db_path: Path | None = None
        self._scratch: Path | None = None  # made when a file has no other home (no log_dir)
        self.proxy_port: int | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.nodes: dict[str, str] = {}  # Celery node names of the workers
        self._web_options: dict = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def proxy_url(self) -> str:
        """nginx in front of gunicorn (:meth:`start_proxy`)."""
        return f"http://127.0.0.1:{self.proxy_port}"

    def workdir(self, name: str) -> Path:
        """A folder for ``name``'s files: under ``log_dir``, else under a temporary folder of this
        instance's (removed by :meth:`stop`)."""
        if self.log_dir is None and self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="potato-processes-"))
        folder = (self.log_dir or self._scratch) / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # Starting

    def start(self, name: str, command: list[str], log_path: Path | None = None) -> subprocess.Popen:
        """Start ``command`` as the process called ``name``; its output goes to its log."""
        log_path = log_path or (self.log_dir / f"{name}.log" if self.log_dir else None)
        if log_path:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.logs[name] = log_path
        with open(log_path or os.devnull, "ab") as log:  # the child keeps its own copy of the file
            process = spawn(
                command,
                cwd=REPO,
                env=self.env,
                stdout=log if log_path else None,
                stderr=subprocess.STDOUT if log_path else None,
            )
        self.processes[name] = process
        self._write_pid_file()
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
        """An embedded Redis (broker and cache) for the processes started after it; returns once it
        answers. Its data goes to ``db_path``, else under ``log_dir``, else a temporary folder.

        Started again, it comes back on the same port with the same append-only file, as a
        restarted Redis server does.
        """
        from webapp.embedded_redis import EmbeddedRedis

        self.redis_db_path = db_path or self.redis_db_path or self.workdir("redis") / "redis.db"
        log_path = self.log_dir / "redis.log" if self.log_dir else None
        self.redis = EmbeddedRedis(self.redis_db_path, port=self.redis_port, log_path=log_path)
        self.redis_port = self.redis.port
        self.env["REDIS_URL"] = self.redis.url
        self._write_pid_file()
        return self.redis.url

    def start_web(
        self, workers: int = 1, threads: int = 4, loglevel: str = "info", wait: float | None = 30
    ) -> subprocess.Popen:
        """gunicorn as the process ``web``; with ``wait``, returns once ``/healthz`` answers (503 is an answer)."""
        self._web_options = {"workers": workers, "threads": threads, "loglevel": loglevel}
        process = self.start("web", web_command(self.host, self.web_port, workers, threads, loglevel))
        if wait:
            self.wait_until(lambda: http_answers(self.url + "/healthz"), wait, "web")
        return process

    def restart_web(self, wait: float | None = 30) -> None:
        """Stop the web process as a deploy does (SIGTERM, requests in flight finish) and start it
        again with the workers, threads and log level it was started with."""
        self.terminate("web")
        self.start_web(**self._web_options, wait=wait)

    def start_proxy(self, port: int | None = None, wait: float | None = 15) -> subprocess.Popen:
        """Debian's nginx with the shipped site (``deploy/nginx/potato.conf``) in front of gunicorn,
        as the process ``proxy``, run as this user with its files under :meth:`workdir`; with
        ``wait``, returns once ``/healthz`` answers through it."""
        from webapp.embedded_redis import free_port
        from webapp.proxy import nginx_binary, site_config, standalone_config

        self.proxy_port = port or self.proxy_port or free_port()
        prefix = self.workdir("nginx")
        site = prefix / "potato.conf"
        site.write_text(site_config(upstream=f"{self.host}:{self.web_port}", listen=f"127.0.0.1:{self.proxy_port}"))
        config = prefix / "nginx.conf"
        config.write_text(standalone_config(prefix, site))
        command = [nginx_binary(), "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
        process = self.start("proxy", command)
        if wait:
            self.wait_until(lambda: http_answers(self.proxy_url + "/healthz"), wait, "proxy")
        return process

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
            self._write_pid_file()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM every process, SIGKILL what is left after ``timeout``, then stop Redis."""
        _stop_all(list(self.processes.values()), timeout)
        self.processes.clear()
        self.stop_redis()
        if self.pid_file:
            self.pid_file.unlink(missing_ok=True)
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # The pid file

    def _write_pid_file(self) -> None:
        """Record this process and each child's session (leader pid and start time), atomically."""
        if not self.pid_file:
            return
        pids = {name: process.pid for name, process in self.processes.items()}
        if self.redis:
            pids["redis"] = self.redis.pid
        record = {
            "pid": os.getpid(),
            "started": _start_time(os.getpid()),
            "sessions": {name: {"pid": pid, "started": _start_time(pid)} for name, pid in pids.items()},
        }
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.pid_file.with_name(f".{self.pid_file.name}.{os.getpid()}")
        partial.write_text(json.dumps(record, indent=1))
        partial.replace(self.pid_file)

    def __enter__(self) -> ServiceProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class AlreadyRunning(RuntimeError):
    """The process that wrote the pid file is still running."""


def end_leftovers(pid_file: Path, timeout: float = 10) -> list[int]:
    """End what a hard stop of the process that wrote ``pid_file`` left running; returns their pids.

    Every process still in a session the file records is SIGKILLed (a child, or its children
    orphaned by a child that died: gunicorn's workers, a Celery pool). A session leader's pid is
    not reused while any process of its session lives, so a live process with the leader's pid
    but another start time means that session has ended and the pid is someone else's: left alone.
    Raises :class:`AlreadyRunning` if the recording process itself still runs.
    """
    import psutil

    try:
        record = json.loads(pid_file.read_text())
    except FileNotFoundError:
        return []
    except ValueError:  # a torn or foreign file: nothing to trust in it
        pid_file.unlink(missing_ok=True)
        return []
    if _start_time(record["pid"]) == record["started"] and record["pid"] != os.getpid():
        raise AlreadyRunning(f"already running as pid {record['pid']} (recorded in {pid_file})")
    sessions = {
        entry["pid"]
        for entry in record.get("sessions", {}).values()
        if _start_time(entry["pid"]) in (None, entry["started"])  # leader gone, or still the same process
    }
    leftovers = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if process.pid != os.getpid() and os.getsid(process.pid) in sessions:
                process.kill()
                leftovers.append(process)
    psutil.wait_procs(leftovers, timeout=timeout)
    pid_file.unlink(missing_ok=True)
    return [process.pid for process in leftovers]


def _start_time(pid: int) -> float | None:
    """When process ``pid`` started (None: no such process); with the pid, names one process."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


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
