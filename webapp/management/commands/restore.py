"""``manage.py restore DIR``: a backup into an empty database and the media storage, then verified."""

from django.core.management.base import BaseCommand, CommandError

from webapp.backups.services import BackupError, restore_site


class Command(BaseCommand):
    help = (
        "Restore a `manage.py backup` folder: checks every file's sha256 first, loads the database into an "
        "empty one (created, not migrated), puts the media files back, then checks every table's rows and "
        "every file against manifest.json. Stop the site's processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="The backup folder (it holds manifest.json)")

    def handle(self, *args, directory, **options):
        try:
            summary = restore_site(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified {summary.rows} rows in {summary.tables} tables and {summary.files} media "
                f"files ({summary.bytes / 1e6:.1f} MB) from {directory}"
            )
        )
        if summary.missing_media:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(summary.missing_media)} files the database names were already missing when it was "
                    f"backed up (manifest.json, missing_media)"
                )
            )
