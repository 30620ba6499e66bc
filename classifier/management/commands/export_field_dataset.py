"""Export the checked field photos as a dataset (a folder, or a zip when OUT ends in .zip): what the dashboard's
Collect > Export gives admins, for a collection too big for one download."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classifier.checked import COLLECTED, UPLOADS
from classifier.collection.dataset import LICENCES, DatasetOptions, folder_dataset, zip_dataset


class Command(BaseCommand):
    help = "Write the checked field photos (class folders, MANIFEST.csv, DATASHEET.md, LICENSE.txt) to OUT."

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)
        parser.add_argument("--licence", choices=list(LICENCES), default="CC-BY-4.0")
        parser.add_argument("--title", default="Kigezi potato leaf field photos")
        parser.add_argument("--publisher", required=True)
        parser.add_argument(
            "--uploads", action="store_true", help="also farmers' reviewed uploads (only once they may be published)"
        )
        parser.add_argument("--no-collected", action="store_true", help="leave officers' collected photos out")

    def handle(self, *args, out: Path, **options):
        wanted = {COLLECTED: not options["no_collected"], UPLOADS: options["uploads"]}
        sources = tuple(source for source, yes in wanted.items() if yes)
        if not sources:
            raise CommandError("nothing to export: drop --no-collected or add --uploads")
        dataset = DatasetOptions(options["title"], options["licence"], options["publisher"], sources)
        if out.suffix == ".zip":
            out.parent.mkdir(parents=True, exist_ok=True)
            summary = zip_dataset(out, dataset, folder=out.stem)
        else:
            if out.exists() and any(out.iterdir()):
                raise CommandError(f"{out} is not empty")
            summary = folder_dataset(out, dataset)
        self.stdout.write(f"{summary.photos} photos written to {out}")
