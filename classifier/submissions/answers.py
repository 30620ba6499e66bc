"""The answer in the upload's own response: the worker announces each case it answers, and the web
process that stored the case may wait a moment for that announcement (issue 26: one round trip on a
slow link instead of two).

The announcement is a Redis list per case (``RPUSH`` by the worker, ``BLPOP`` by the waiting request),
so an answer that lands before the request starts waiting is not missed, and waiting costs no CPU and
no database queries. The wait is bounded twice: by ``ANSWER_WAIT_SECONDS`` and by
``ANSWER_WAITERS_PER_PROCESS``, the most gunicorn threads of one process that may wait at once; a
request that finds them all taken answers at once with the case still pending, as before. Redis being
down costs only the wait: the page then asks for the answer as it always did.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

#: Announcements expire unread (the page may not have waited, or gave up).
ANNOUNCEMENT_TTL_SECONDS = 60

_waiters_lock = threading.Lock()
_waiters: threading.BoundedSemaphore | None = None
_clients: dict[str, redis.Redis] = {}


def _key(submission_id: UUID | str) -> str:
    return f"potato:answer:{submission_id}"


def _client(timeout: float) -> redis.Redis:
    """One client (with its connection pool) per process; the socket timeout outlasts the longest wait."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=max(1.0, timeout + 1.0), health_check_interval=30
        )
        _clients[url] = client
    return client


def _semaphore() -> threading.BoundedSemaphore:
    global _waiters
    with _waiters_lock:
        if _waiters is None:
            _waiters = threading.BoundedSemaphore(max(0, settings.ANSWER_WAITERS_PER_PROCESS) or 1)
        return _waiters


def announce_answer(submission_id: UUID | str) -> None:
    """Tell a request waiting for this case that its answer (or failure) is stored. Never raises."""
    key = _key(submission_id)
    try:
        client = _client(settings.ANSWER_WAIT_SECONDS)
        client.pipeline().rpush(key, 1).expire(key, ANNOUNCEMENT_TTL_SECONDS).execute()
    except redis.RedisError:
        logger.info("could not announce the answer of %s (Redis); the page will ask for it", submission_id)


def requested_wait(value: str | None) -> float:
    """The wait a request asks for (``?wait=`` seconds), within ``0..ANSWER_WAIT_SECONDS``; 0 if unreadable."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    if seconds != seconds:  # NaN
        return 0.0
    return min(max(seconds, 0.0), float(settings.ANSWER_WAIT_SECONDS))


def wait_for_answer(submission_id: UUID | str, seconds: float, is_answered) -> bool:
    """Wait up to ``seconds`` until ``is_answered()`` (a read of the stored case) says so.

    Returns whether it did. Each announcement for the case wakes the wait and the stored case is read
    again, so an old announcement (an answer before a photo was added) only costs one read.
    """
    if seconds <= 0:
        return False
    waiters = _semaphore()
    if not waiters.acquire(blocking=False):
        return False  # this process's waiting threads are all taken: answer now, the page asks later
    try:
        deadline = time.monotonic() + seconds
        client = _client(settings.ANSWER_WAIT_SECONDS)  # one client a process: its timeout fits every wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0.01:
                return False
            try:
                announced = client.blpop([_key(submission_id)], timeout=left)
            except redis.RedisError:
                return False
            if announced is not None and is_answered():
                return True
            if announced is None:
                return False
    finally:
        waiters.release()
