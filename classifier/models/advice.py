"""What a farmer is told to do for each answer, editable by admins, in each language."""

from __future__ import annotations

from django.db import models


class Advice(models.Model):
    """What farmers are told to do for one answer, in one language; admins edit it in the admin.

    ``label`` is a model label (``late_blight``...) or ``unsure`` / ``general``. Seeded from
    ``classifier.advice.defaults`` by migration 0002; when a row is missing the code default is shown.
    """

    label = models.CharField(max_length=64)
    language = models.CharField(max_length=12)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    needs_review = models.BooleanField(
        default=False, help_text="Tick while the text awaits checking by a native speaker or an agronomist."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "language"]
        verbose_name_plural = "advice"
        constraints = [models.UniqueConstraint(fields=["label", "language"], name="one_advice_per_label_language")]

    def __str__(self) -> str:
        return f"{self.label} ({self.language})"


class AdviceStep(models.Model):
    """One practical step of an advice, with the source of the recommendation."""

    advice = models.ForeignKey(Advice, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text="Where the recommendation comes from.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:60]
