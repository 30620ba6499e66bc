"""The Celery application: inference and training run on separate queues and workers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.production")

app = Celery("potato")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
