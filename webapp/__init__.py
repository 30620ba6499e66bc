"""The site: settings, URLs, the farmer's pages and the officers' dashboard; the Celery app is loaded here."""

from webapp.celery import app as celery_app

__all__ = ("celery_app",)
