"""Run the whole service in the foreground: Redis (embedded if needed), gunicorn, workers, beat.

Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from webapp.embedded_redis import EmbeddedRedis
from webapp.processes import beat_command, web_command, worker_command


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
        env = os.environ.copy()
        embedded = None
        if not os.environ.get("REDIS_URL"):
            embedded = EmbeddedRedis(settings.VAR_DIR / "redis" / "redis.db")
            env["REDIS_URL"] = embedded.url
            self.stdout.write(f"Embedded Redis on {embedded.url} (set REDIS_URL to use your own)")
        commands = {
            "web": web_command(options["host"], options["port"], options["web_workers"]),
            "inference": worker_command("inference", options["inference_workers"], "inference@%h"),
        }
        if not options["no_training_worker"]:
            commands["training"] = worker_command("training", 1, "training@%h")
        if not options["no_beat"]:
            commands["beat"] = beat_command()

        processes = {name: subprocess.Popen(command, env=env) for name, command in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(
                f"Potato leaf doctor is running at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)"
            )
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with code {process.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            if embedded:
                embedded.stop()
            self.stdout.write("Stopped.")
