"""Run the whole service in the foreground: Redis (embedded if needed), gunicorn, workers, beat.

Ctrl-C stops everything it started; a ``kill -9`` of it takes every child with it. The children's
sessions are recorded in ``var/runstack.pid``, and a start first ends whatever an earlier stop
left running there (a second beat would send every scheduled task twice).
"""

from __future__ import annotations

import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webapp.processes import AlreadyRunning, ServiceProcesses, end_leftovers

PID_FILE_NAME = "runstack.pid"


class Command(BaseCommand):
    help = "Start Redis (embedded when REDIS_URL is unset), gunicorn, the Celery workers and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
        parser.add_argument("--inference-workers", type=int, default=int(os.environ.get("INFERENCE_WORKERS", 2)))
        parser.add_argument("--no-training-worker", action="store_true")
        parser.add_argument("--no-beat", action="store_true")

    def handle(self, *args, **options):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        # The children run in sessions of their own, so the terminal's signals reach this process
        # only: each of these stops them all (SIGHUP: the terminal was closed).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        pid_file = settings.VAR_DIR / PID_FILE_NAME
        try:
            if ended := end_leftovers(pid_file):
                self.stderr.write(f"Ended {len(ended)} processes an earlier run left behind: {ended}")
        except AlreadyRunning as running:
            raise CommandError(f"The service is {running}; stop it first.") from None
        with ServiceProcesses(host=options["host"], web_port=options["port"], pid_file=pid_file) as service:
            if not os.environ.get("REDIS_URL"):
                url = service.start_redis(settings.VAR_DIR / "redis" / "redis.db")
                self.stdout.write(f"Embedded Redis on {url} (set REDIS_URL to use your own)")
            service.start_web(options["web_workers"], wait=None)
            service.start_worker("inference", options["inference_workers"], node="inference@%h", wait=None)
            if not options["no_training_worker"]:
                service.start_worker("training", 1, queues="training", node="training@%h", wait=None)
            if not options["no_beat"]:
                service.start_beat()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Potato leaf doctor is running at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)"
                )
            )
            while not stopping:
                if exited := service.exited():
                    self.stderr.write(f"{exited} exited with code {service.processes[exited].returncode}; stopping")
                    break
                time.sleep(0.5)
        self.stdout.write("Stopped.")
