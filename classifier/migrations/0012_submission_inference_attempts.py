"""Submissions count the runs of the model on them, so a photo that kills every worker is given up."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('classifier', '0011_promotion_reasons_as_a_list'),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='inference_attempts',
            field=models.PositiveIntegerField(default=0, help_text='Times a worker started the model on it (a redelivered task counts again).'),
        ),
        migrations.AlterField(
            model_name='submission',
            name='enqueue_count',
            field=models.PositiveIntegerField(default=0, help_text='Times its inference task was published.'),
        ),
    ]
