"""A model version registered without a size defaults to the shipped model's input, 224 px (was the study's 128)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('classifier', '0012_submission_inference_attempts'),
    ]

    operations = [
        migrations.AlterField(
            model_name='modelversion',
            name='image_size',
            field=models.PositiveSmallIntegerField(default=224),
        ),
    ]
