from django.contrib import admin

from classifier.models import ModelVersion, Prediction, Submission


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
