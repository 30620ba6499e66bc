"""The process layer (webapp/processes.py) and ``runstack``: children die with their parent, a
start ends what a hard stop left, and a restarted or re-created part comes back as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import database_url_for_workers, wait_until
from tests.stack import Stack
from webapp.embedded_redis import free_port, redis_answers
from webapp.processes import AlreadyRunning, ServiceProcesses, end_leftovers

pytestmark = pytest.mark.processes
REPO = Path(__file__).resolve().parent.parent


def gone(pids, timeout: float = 10.0) -> list[int]:
    """Wait until none of ``pids`` runs (a zombie waiting to be reaped has died); the ones left."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if running(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(pids) -> list[str]:
    described = []
    for pid in pids:
        try:
            described.append(f"{pid}: {' '.join(psutil.Process(pid).cmdline())[:120]}")
        except psutil.Error:
            described.append(f"{pid}: gone")
    return described


def test_start_redis_without_a_log_dir_uses_a_folder_of_its_own():
    service = ServiceProcesses()
    try:
        url = service.start_redis()
        assert redis_answers(url)
        scratch = service.redis_db_path.parent
        assert scratch.is_dir()
    finally:
        service.stop()
    assert not redis_answers(url) and not scratch.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.database_agnostic  # gunicorn's options; the database is only its health check's
def test_restart_web_keeps_the_workers_and_threads_it_was_started_with(tmp_path, media_root):
    stack = Stack(tmp_path, media_root)
    stack.start_redis()
    try:
        stack.start_web(workers=2, threads=3)
        first = stack.processes["web"].pid
        stack.restart_web()
        web = psutil.Process(stack.processes["web"].pid)
        assert web.pid != first
        assert web.cmdline()[web.cmdline().index("--threads") + 1] == "3"
        stack.wait_until(lambda: len(web.children()) == 2, 30, "web")
    finally:
        stack.stop()


CHILD_STARTER = """
import sys, time
from webapp.processes import ServiceProcesses
service = ServiceProcesses()
service.start_redis()
# a child with a child of its own, as gunicorn's master and its workers
service.start("tree", ["sh", "-c", "sleep 60 & sleep 60"])
print(service.redis.pid, service.processes["tree"].pid, flush=True)
time.sleep(60)
"""


def test_children_die_with_the_process_that_started_them():
    parent = subprocess.Popen([sys.executable, "-c", CHILD_STARTER], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        redis_pid, tree_pid = map(int, parent.stdout.readline().split())
        wait_until(lambda: psutil.Process(tree_pid).children(), 10)
        tree = [tree_pid, *(child.pid for child in psutil.Process(tree_pid).children(recursive=True))]
        assert len(tree) >= 2 and os.getsid(tree_pid) == tree_pid  # still a session of its own
    finally:
        parent.kill()  # kill -9, as the OOM killer does
        parent.wait()
    # The tree's leader dies with the parent; its orphaned child is in the session, which the
    # kernel's death signal does not reach: runstack's pid file is what finds such leftovers.
    assert gone([redis_pid, tree_pid]) == []
    for pid in gone(tree[1:], timeout=0):
        os.kill(pid, signal.SIGKILL)


def sleeping_session() -> tuple[subprocess.Popen, int, float]:
    """A session like one a runstack child leaves: a leader with a child of its own, no death
    signal; the leader, its child's pid, and the leader's start time."""
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, start_new_session=True)
    return leader, int(leader.stdout.readline()), psutil.Process(leader.pid).create_time()


def test_a_start_ends_the_sessions_an_earlier_run_left(tmp_path):
    leader, orphan, leader_started = sleeping_session()
    whole, whole_child, whole_started = sleeping_session()
    bystander = subprocess.Popen(["sleep", "60"])  # its pid is recorded, but with another start time
    leader.kill()  # the session's leader died; its child lives on in the session
    leader.wait()
    dead_runstack = subprocess.Popen(["true"])
    dead_runstack.wait()
    pid_file = tmp_path / "runstack.pid"
    pid_file.write_text(
        json.dumps(
            {
                "pid": dead_runstack.pid,
                "started": 1.0,
                "sessions": {
                    "web": {"pid": leader.pid, "started": leader_started},
                    "beat": {"pid": whole.pid, "started": whole_started},
                    "worker": {"pid": bystander.pid, "started": 3.0},
                },
            }
        )
    )
    try:
        ended = end_leftovers(pid_file)
        assert sorted(ended) == sorted([orphan, whole.pid, whole_child])
        assert gone([orphan, whole.pid, whole_child], timeout=5) == []
        assert running(bystander.pid) and not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()
        whole.wait()


def test_a_start_refuses_while_the_recorded_run_is_alive(tmp_path):
    pid_file = tmp_path / "runstack.pid"
    live = subprocess.Popen(["sleep", "60"])
    try:
        record = {"pid": live.pid, "started": psutil.Process(live.pid).create_time(), "sessions": {}}
        pid_file.write_text(json.dumps(record))
        with pytest.raises(AlreadyRunning):
            end_leftovers(pid_file)
        assert running(live.pid) and pid_file.exists()
    finally:
        live.kill()
        live.wait()


# -- runstack itself, killed with kill -9 and started again ------------------------------------------


def runstack(var_dir: Path, port: int, media_root: Path, *extra: str) -> subprocess.Popen:
    """``manage.py runstack`` with the test settings and database, its embedded Redis and var/ in
    ``var_dir``, in a process group of its own (as ``make run`` is)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings.test",
        "DATABASE_URL": database_url_for_workers(),
        "MEDIA_ROOT": str(media_root),
        "VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL")  # the embedded Redis, as on a machine without one
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [sys.executable, "manage.py", "runstack", "--port", str(port), "--web-workers", "1",
               "--inference-workers", "1", *extra]  # fmt: skip
    log = open(var_dir / "runstack.log", "ab")  # noqa: SIM115 - the child keeps its own copy
    with log:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_healthy(process: subprocess.Popen, port: int, var_dir: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, (var_dir / "runstack.log").read_text()[-3000:]
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("runstack not healthy:\n" + (var_dir / "runstack.log").read_text()[-3000:])


@pytest.mark.django_db(transaction=True)
def test_runstack_killed_hard_leaves_nothing_behind_and_starts_again(tmp_path, media_root):
    port = free_port()
    first = runstack(tmp_path, port, media_root)
    try:
        wait_healthy(first, port, tmp_path)
        pid_file = tmp_path / "runstack.pid"
        recorded = json.loads(pid_file.read_text())
        assert recorded["pid"] == first.pid
        assert set(recorded["sessions"]) == {"redis", "web", "inference", "training", "beat"}
        parents = [psutil.Process(recorded["sessions"][name]["pid"]) for name in ("web", "inference", "training")]
        # gunicorn's worker and each Celery worker's pool are up too (grandchildren of runstack)
        pools_up = lambda: all(parent.children() for parent in parents)  # noqa: E731
        wait_until(pools_up, 60, tmp_path / "runstack.log")
        everything = [p.pid for p in psutil.Process(first.pid).children(recursive=True)]
        assert len(everything) >= 8
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # make run's whole group, as the OOM killer or a crashed terminal
        first.wait()
    left = gone(everything)
    survivors = describe(left)
    for pid in left:  # a failing run leaves no service behind either
        os.kill(pid, signal.SIGKILL)
    assert left == [], survivors

    second = runstack(tmp_path, port, media_root, "--no-training-worker")
    try:
        wait_healthy(second, port, tmp_path)  # the port is free and the embedded Redis answers
    finally:
        second.send_signal(signal.SIGINT)  # Ctrl-C
        assert second.wait(60) == 0, (tmp_path / "runstack.log").read_text()[-3000:]
    assert not pid_file.exists()
