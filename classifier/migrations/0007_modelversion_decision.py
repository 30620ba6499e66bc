from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0006_bacterial_wilt_advice"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="decision",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The fitted decision rule: temperature, reject_at, unsure_below (empty: the old rule).",
            ),
        ),
    ]
