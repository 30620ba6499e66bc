"""Fill the database with fake diagnosed submissions (some reviewed) to try or measure the dashboard."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classifier import seeding
from classifier.registry import selectors as registry_selectors
from classifier.registry.services import ensure_default_model


class Command(BaseCommand):
    help = "Add COUNT fake diagnosed submissions over the last weeks, a share of them reviewed (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--reviewed", type=float, default=0.3, help="share reviewed by 'seed-officer' (0..1)")
        parser.add_argument("--weeks", type=int, default=26, help="spread over this many past weeks")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clear", action="store_true", help="first remove submissions seeded before")

    def handle(self, *args, **options):
        if options["count"] < 0 or not 0 <= options["reviewed"] <= 1:
            raise CommandError("--count must be >= 0 and --reviewed between 0 and 1")
        if options["clear"]:
            self.stdout.write(f"Removed {seeding.clear_seeded()} seeded rows.")
        ensure_default_model(settings.DEFAULT_MODEL_DIR)
        version = registry_selectors.active_model_version()
        if version is None:
            raise CommandError("No active model version.")
        started = time.monotonic()
        made = seeding.seed_submissions(
            options["count"],
            version,
            reviewed_fraction=options["reviewed"],
            weeks=options["weeks"],
            seed=options["seed"],
            log=lambda message: self.stderr.write(f"\r{message}", ending=""),
        )
        self.stderr.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {made} submissions in {time.monotonic() - started:.1f} s "
                f"({seeding.seeded_count()} seeded in all)."
            )
        )
