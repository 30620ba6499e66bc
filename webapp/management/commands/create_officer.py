"""Add an extension officer (or a dashboard admin) who can sign in to /dashboard/."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from webapp.dashboard.accounts import create_officer


class Command(BaseCommand):
    help = "Create or update a dashboard user in the 'officers' group (and 'admins' with --admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--admin", action="store_true", help="also an admin: may add classes and people")
        parser.add_argument("--password", help="asked for when left out and the terminal is interactive")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None and sys.stdin.isatty():
            password = self._ask()
        try:
            user = create_officer(options["username"], password, admin=options["admin"], email=options["email"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except ValueError as error:
            raise CommandError(f"{error} Give --password.") from error
        role = "admin" if options["admin"] else "officer"
        self.stdout.write(self.style.SUCCESS(f"{user.username} can sign in to /dashboard/ as an {role}."))

    def _ask(self) -> str | None:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first or None
