from django.contrib import admin

from classifier.models import Advice, AdviceStep, ModelVersion, Prediction, Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "district", "status", "created_at")
    list_filter = ("status", "district")
    date_hierarchy = "created_at"


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("submission", "label", "confidence", "is_unsure", "model_version", "created_at")
    list_filter = ("label", "is_unsure", "model_version")
    list_select_related = ("model_version", "submission")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "created_by", "created_at", "activated_at")
    list_filter = ("status",)
    readonly_fields = ("status", "activated_at")


class AdviceStepInline(admin.TabularInline):
    model = AdviceStep
    extra = 1
    fields = ("position", "text", "source")


@admin.register(Advice)
class AdviceAdmin(admin.ModelAdmin):
    """Farmers see these texts on the result page as soon as they are saved (no deploy)."""

    list_display = ("label", "language", "title", "needs_review", "updated_at")
    list_filter = ("language", "needs_review", "label")
    search_fields = ("title", "summary", "steps__text")
    inlines = [AdviceStepInline]
