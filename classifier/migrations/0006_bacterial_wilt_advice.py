"""Advice for bacterial wilt, the fourth potato answer, in every language.

A database migrated before bacterial wilt had advice gets its rows here, through 0002's own seeding
(it creates only the rows that are missing, so rows an admin edited are left alone); a fresh
database already has them from 0002. Texts in languages other than the default await review.

The officers' classes (``LabelClass``) are not touched: they come from the registered models'
labels and from admins adding a class (``labelling.add_label_class``), as before.
"""

from importlib import import_module

from django.db import migrations

LABEL = "bacterial_wilt"


def seed_missing_advice(apps, schema_editor):
    import_module("classifier.migrations.0002_advice").seed_advice(apps, schema_editor)


def remove_bacterial_wilt_advice(apps, schema_editor):
    apps.get_model("classifier", "Advice").objects.filter(label=LABEL).delete()


class Migration(migrations.Migration):
    dependencies = [("classifier", "0005_evaluationset_modelversion_data_snapshot_and_more")]

    operations = [migrations.RunPython(seed_missing_advice, remove_bacterial_wilt_advice)]
