"""Rebuild the field report from its stored out-of-fold predictions, without training."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write report.json, report.md and figures/ for a field cross-validation folder (docs/field)."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)

    def handle(self, *args, **options):
        from training.field.report import write_report

        folder = options["folder"]
        if not (folder / "photos.json").is_file():
            raise CommandError(f"{folder} is not a field cross-validation folder (no photos.json)")
        report = write_report(folder)
        self.stdout.write(f"{folder / 'report.md'}: {len(report['arms'])} arms")
