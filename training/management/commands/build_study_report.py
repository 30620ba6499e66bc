"""Rebuild a study's report from its stored results, without training."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write report.md, report.html, report.json and figures/ for a study folder (reports/<name>)."

    def add_arguments(self, parser):
        parser.add_argument("study_dir", type=Path)

    def handle(self, *args, **options):
        from training.study.report import build_report

        study_dir = options["study_dir"]
        if not (study_dir / "study.json").is_file():
            raise CommandError(f"{study_dir} is not a study folder (no study.json)")
        files = build_report(study_dir)
        self.stdout.write(f"{files.markdown}\n{files.html}\n{files.json}\n{len(files.figures)} figures")
