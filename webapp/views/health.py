"""Health endpoints: ``/healthz`` for web nodes (database, broker, storage), ``/healthz/workers``."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker(), "storage": _check_storage()}
    healthy = all(checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)


@never_cache
def workers(request: HttpRequest) -> JsonResponse:
    """Which Celery workers answer a ping, and whether each queue has at least one."""
    from webapp.celery import app

    try:
        replies = app.control.ping(timeout=1.0) or []
        queues = app.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:
        return JsonResponse({"ok": False, "error": "broker unreachable"}, status=503)
    names = sorted(name for reply in replies for name in reply)
    serving = {queue["name"] for worker_queues in queues.values() for queue in worker_queues}
    by_queue = {queue: queue in serving for queue in ("inference", "training")}
    healthy = by_queue["inference"]
    return JsonResponse({"ok": healthy, "workers": names, "queues": by_queue}, status=200 if healthy else 503)


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
