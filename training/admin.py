"""Django admin for training runs."""

from django.contrib import admin

from training.models import TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "progress_step",
        "progress_total",
        "created_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status")
    date_hierarchy = "created_at"
    search_fields = ("artifact_path", "created_by", "progress_message")
    readonly_fields = (
        "status",
        "progress_step",
        "progress_total",
        "progress_message",
        "eta_seconds",
        "heartbeat_at",
        "cancel_requested_at",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    )
