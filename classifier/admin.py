"""Django admin for the classifier's tables: advice editing, model versions, submissions, the SMS outbox."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from classifier.models import (
    Advice,
    AdviceStep,
    Label,
    LabelClass,
    ModelVersion,
    Prediction,
    SmsMessage,
    Submission,
)
from webapp.database_errors import is_refused_value


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows made by the service and kept as a record: seen in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefusedLookupChangeList(ChangeList):
    """A changelist whose query-string lookups fail as Django's own bad lookups do.

    Django turns a lookup it cannot build (``?created_at__gte=abc``) into a redirect to ``?e=1``, but
    a year it cannot hold (``?created_at__year=99999999999999999999``, an ``OverflowError`` in the
    date hierarchy) or a value that fails only when the query runs (an invalid ``__regex``) escaped
    as a server error, or as the "database busy" 503 on SQLite. Building the changelist runs the
    filters and the count, so it is guarded whole.
    """

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)
        except Exception as error:
            if is_refused_value(error):
                raise IncorrectLookupParameters(error) from error
            raise


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "district", "status", "created_at")
    exclude = ("phone",)  # used only to send the verdict SMS, never shown
    list_filter = ("status", "district")
    date_hierarchy = "created_at"
    readonly_fields = ("error", "enqueue_count", "inference_attempts")  # why a photo failed, as the service saw it

    def get_changelist(self, request, **kwargs):
        return RefusedLookupChangeList


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


@admin.register(LabelClass)
class LabelClassAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", "is_reject", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    """Read only: verdicts are made on the dashboard and never edited (the audit trail)."""

    list_display = ("submission", "action", "label", "reject_reason", "is_current", "created_by", "created_at")
    list_filter = ("action", "is_current", "label")
    list_select_related = ("created_by",)


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    """The verdict SMS outbox: what went, what failed and why. Read only; the number is never shown."""

    list_display = ("submission", "status", "language", "attempts", "backend", "created_at", "sent_at", "error")
    list_filter = ("status", "language", "backend")
    date_hierarchy = "created_at"
