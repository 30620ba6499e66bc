"""Health endpoints: ``/healthz`` for web nodes (database, broker, storage), ``/healthz/workers``.

``/healthz`` also names, under ``warnings``, what works badly without making the node unhealthy:
an SMS configuration that sends nothing (farmers still get their answers on the result page, so a
load balancer must not take the node out for it).
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker(), "storage": _check_storage()}
    healthy = all(checks.values())
    body = {"ok": healthy, "checks": checks}
    if warnings := _warnings():
        body["warnings"] = warnings
    return JsonResponse(body, status=200 if healthy else 503)


def _warnings() -> dict[str, str]:
    from classifier.sms.backends import configuration_error

    problem = configuration_error()
    return {"sms": f"No SMS can be sent, they wait: {problem}"} if problem else {}


#: ``/healthz/workers`` pings every worker (a broadcast that waits up to two seconds); anyone may
#: ask, so the answer is computed at most once per this many seconds and shared through the cache.
WORKERS_CACHE_SECONDS = 15
WORKERS_CACHE_KEY = "healthz:workers"


@never_cache
def workers(request: HttpRequest) -> JsonResponse:
    """Whether each queue has a live worker; the workers' names only for signed-in staff."""
    answer = cache.get(WORKERS_CACHE_KEY)
    if answer is None:
        answer = _ping_workers()
        cache.set(WORKERS_CACHE_KEY, answer, WORKERS_CACHE_SECONDS)
    body = dict(answer)
    if not request.user.is_staff:
        body.pop("workers", None)
    return JsonResponse(body, status=200 if body["ok"] else 503)


def _ping_workers() -> dict:
    from webapp.celery import app

    try:
        replies = app.control.ping(timeout=1.0) or []
        queues = app.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:
        return {"ok": False, "error": "broker unreachable"}
    names = sorted(name for reply in replies for name in reply)
    serving = {queue["name"] for worker_queues in queues.values() for queue in worker_queues}
    by_queue = {queue: queue in serving for queue in ("inference", "training")}
    return {"ok": by_queue["inference"], "workers": names, "queues": by_queue}


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _check_broker() -> bool:
    from webapp.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _check_storage() -> bool:
    try:
        default_storage.exists("healthz-probe")
        return True
    except Exception:
        return False
