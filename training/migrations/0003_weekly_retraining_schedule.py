"""The weekly retraining check as a django-celery-beat task, so admins can change it in the admin."""

import json

from django.db import migrations

TASK_NAME = "Retrain when enough officer labels arrived"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    weekly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="1", day_of_month="*", month_of_year="*", timezone="Africa/Kampala"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "training.tasks.scheduled_retraining",
            "crontab": weekly,
            "kwargs": json.dumps({}),
            "description": "Mondays 02:00: starts a retraining run when RETRAIN_MIN_NEW_LABELS new labels arrived.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0002_trainingrun_one_active_run_per_kind"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
