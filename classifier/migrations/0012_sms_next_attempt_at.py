"""When an SMS row's next try is due (queued) or its try in flight counts as lost (sending), for the
sweeper that sends stuck rows again."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0011_promotion_reasons_as_a_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="smsmessage",
            name="next_attempt_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
    ]
