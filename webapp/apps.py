"""The webapp app's configuration."""

from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "Web app"

    def ready(self) -> None:
        from webapp import checks  # noqa: F401 - registers the system checks
