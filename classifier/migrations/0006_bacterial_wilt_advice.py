"""Advice for bacterial wilt, the fourth potato answer, in every language (as 0002 seeds the others).

A database migrated before bacterial wilt had advice gets its rows here; a fresh one already has
them from 0002, which seeds every answer in ``classifier.advice``. Rows that exist are left alone
(an admin may have edited them). Texts in languages other than the default await review.

The officers' classes (``LabelClass``) are not touched: they come from the registered models'
labels and from admins adding a class (``labelling.add_label_class``), as before.
"""

from django.db import migrations

LABEL = "bacterial_wilt"


def seed_bacterial_wilt_advice(apps, schema_editor):
    from django.conf import settings
    from django.utils import translation

    from classifier.advice import default_advice_rows

    Advice = apps.get_model("classifier", "Advice")
    AdviceStep = apps.get_model("classifier", "AdviceStep")
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            rows = [row for row in default_advice_rows() if row["label"] == LABEL]
        for row in rows:
            advice, created = Advice.objects.get_or_create(
                label=LABEL,
                language=language,
                defaults={
                    "title": row["title"],
                    "summary": row["summary"],
                    "needs_review": language != settings.LANGUAGE_CODE,
                },
            )
            if created:
                AdviceStep.objects.bulk_create(
                    AdviceStep(advice=advice, position=position, text=step["text"], source=step["source"])
                    for position, step in enumerate(row["steps"])
                )


def remove_bacterial_wilt_advice(apps, schema_editor):
    apps.get_model("classifier", "Advice").objects.filter(label=LABEL).delete()


class Migration(migrations.Migration):
    dependencies = [("classifier", "0005_evaluationset_modelversion_data_snapshot_and_more")]

    operations = [migrations.RunPython(seed_bacterial_wilt_advice, remove_bacterial_wilt_advice)]
