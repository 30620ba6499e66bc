"""The webapp app's configuration."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "Web app"

    def ready(self) -> None:
        from webapp import checks  # noqa: F401 - registers the system checks
        from webapp.dashboard.accounts import sync_dashboard_groups

        # The dashboard groups follow the one list in accounts.py on every deploy (``migrate``).
        post_migrate.connect(sync_dashboard_groups, dispatch_uid="webapp.sync_dashboard_groups")
