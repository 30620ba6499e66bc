"""Django admin for the classifier's tables: advice editing, model versions, submissions, the SMS outbox."""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from classifier.models import (
    Advice,
    AdviceStep,
    CollectedPhoto,
    GardenVisit,
    Label,
    LabelClass,
    ModelVersion,
    Prediction,
    SmsMessage,
    Submission,
    VisitLabel,
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


class HiddenFieldsAdmin(admin.ModelAdmin):
    """An admin whose ``hidden_fields`` are neither shown nor searchable.

    Hiding a field from the form is not enough: the changelist takes lookups from the query string
    (``?phone__startswith=+2567721`` answers with a count), so a digit-by-digit search would recover
    the value. Any lookup on a hidden field, with any operator or through a relation, is refused
    (400, Django's ``DisallowedModelAdminLookup``).
    """

    hidden_fields: tuple[str, ...] = ()

    def get_exclude(self, request, obj=None):
        return tuple(super().get_exclude(request, obj) or ()) + self.hidden_fields

    def lookup_allowed(self, lookup, value, request=None):
        if set(lookup.split("__")) & set(self.hidden_fields):
            return False
        return super().lookup_allowed(lookup, value, request)


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
class SubmissionAdmin(HiddenFieldsAdmin):
    list_display = ("id", "district", "status", "created_at")
    hidden_fields = ("phone",)  # used only to send the verdict SMS, never shown nor searched
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
    """Registered versions, read only but for their notes.

    A version is fixed once registered (``registry.services.register_model_version``): workers cache
    its predictor by file name, so an edited label list, decision rule or file hash would reach
    some workers and not others. A new rule is a new version; promotion and rollback are on the
    dashboard.
    """

    list_display = ("number", "status", "created_by", "created_at", "activated_at")
    list_filter = ("status",)
    editable_fields = ("notes",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.editable_fields]

    def has_add_permission(self, request):
        return False  # registered from a model directory, never typed in


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

    list_display = (
        "submission", "status", "language", "attempts", "backend", "created_at", "next_attempt_at", "sent_at", "error"
    )  # fmt: skip
    list_filter = ("status", "language", "backend")
    date_hierarchy = "created_at"

    def changelist_view(self, request, extra_context=None):
        """Say first when the configuration sends nothing: the messages wait, none is lost."""
        from classifier.sms.backends import configuration_error

        if problem := configuration_error():
            waiting = SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED).count()
            messages.error(
                request, f"No SMS can be sent: {problem} {waiting} queued message(s) wait and go once it is fixed."
            )
        return super().changelist_view(request, extra_context)


class VisitLabelInline(admin.TabularInline):
    model = VisitLabel
    fk_name = "visit"
    fields = ("label", "evidence", "is_current", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GardenVisit)
class GardenVisitAdmin(ReadOnlyAdmin):
    """Officers' garden visits (made on the dashboard's Collect page), with their label history."""

    list_display = ("visited_on", "district", "parish", "created_by", "created_at")
    list_filter = ("district", "visited_on")
    inlines = [VisitLabelInline]


@admin.register(CollectedPhoto)
class CollectedPhotoAdmin(ReadOnlyAdmin):
    list_display = ("id", "visit", "taken_at", "received_at", "is_unusable")
    list_filter = ("is_unusable",)


@admin.register(VisitLabel)
class VisitLabelAdmin(ReadOnlyAdmin):
    list_display = ("visit", "label", "is_current", "created_by", "created_at")
    list_filter = ("is_current", "label")
