"""The photos of a case live in ``Photo`` alone (one source of truth): the submission's own image goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("classifier", "0016_submissions_become_cases")]

    operations = [
        migrations.RemoveField(model_name="submission", name="height"),
        migrations.RemoveField(model_name="submission", name="image"),
        migrations.RemoveField(model_name="submission", name="width"),
    ]
