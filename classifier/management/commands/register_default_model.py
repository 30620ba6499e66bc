"""Register the shipped model as version 1 and activate it, the first time the app starts."""

from django.conf import settings
from django.core.management.base import BaseCommand

from classifier.registry.services import ensure_default_model


class Command(BaseCommand):
    help = "Register and activate the shipped model when no model version exists yet."

    def handle(self, *args, **options):
        version = ensure_default_model(settings.DEFAULT_MODEL_DIR)
        if version is None:
            self.stdout.write("A model version is already registered; nothing to do.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Registered and activated the shipped model as {version}."))
