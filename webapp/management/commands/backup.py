"""``manage.py backup DIR``: the database and the media files, with a manifest to restore and verify from."""

from django.core.management.base import BaseCommand, CommandError

from webapp.backups.services import BackupError, backup_site


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite's backup API, or pg_dump) and every media file into DIR (new or empty), "
        "with manifest.json: rows per table, each file's size and sha256. Runs while the site runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="A new or empty folder, e.g. /backups/potato-2026-12-07")

    def handle(self, *args, directory, **options):
        try:
            summary = backup_site(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {summary.rows} rows in {summary.tables} tables and {summary.files} media files "
                f"({summary.bytes / 1e6:.1f} MB) into {directory}"
            )
        )
        if summary.missing_media:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(summary.missing_media)} files the database names were not in the media storage "
                    f"(listed in manifest.json, missing_media): {', '.join(summary.missing_media[:5])}"
                )
            )
