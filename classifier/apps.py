"""The classifier app's configuration."""

from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Diagnosis"
