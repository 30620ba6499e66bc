"""Forms of the officers' dashboard (in English: farmers' forms, translated, are in forms.py)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from classifier.models import District


class DateInput(forms.DateInput):
    input_type = "date"


#: The dates a filter may name. A day is turned into Kampala-time bounds and the day or week after
#: it (``date.max`` + 1 day overflows, 0001-01-01 in UTC is year 0): a range far inside Python's and
#: the databases' keeps every date a form error rather than a server error.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def _within_calendar(value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise forms.ValidationError(
            _("Choose a date from %(earliest)s to %(latest)s."),
            code="out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


class DateField(forms.DateField):
    """A date between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`, picked with the browser's calendar."""

    widget = DateInput
    default_validators = [_within_calendar]

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}


def _label_choices(classes) -> list[tuple[str, str]]:
    return [(c.name, c.display_name or c.name) for c in classes]


class DashboardFilterForm(forms.Form):
    """Filters of the review queue and the CSV export (all optional)."""

    district = forms.ChoiceField(
        label=_("District"), choices=[("", _("All districts"))] + list(District.choices), required=False
    )
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    predicted = forms.ChoiceField(label=_("Model's answer"), required=False)
    status = forms.ChoiceField(label=_("Review"), required=False)

    def __init__(self, data=None, *, classes=(), default_status: str = "unreviewed", **kwargs):
        from classifier.labels.selectors import REVIEW_STATUSES

        super().__init__(data, **kwargs)
        self.default_status = default_status
        self.fields["predicted"].choices = [("", _("Any answer"))] + _label_choices(classes)
        self.fields["status"].choices = list(REVIEW_STATUSES.items())
        self.fields["status"].initial = default_status

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("'From' must be on or before 'To'."))
        return cleaned

    def filters(self):
        """The valid filters as :class:`classifier.labels.selectors.QueueFilters` (defaults when invalid)."""
        from classifier.labels.selectors import QueueFilters

        if not self.is_valid():
            return QueueFilters(status=self.default_status)
        data = self.cleaned_data
        return QueueFilters(
            district=data["district"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            predicted=data["predicted"],
            status=data["status"] or self.default_status,
        )


class LabelForm(forms.Form):
    """An officer's verdict: a class (confirm or correct), or a reason to reject."""

    label = forms.ChoiceField(label=_("What the photo shows"), required=False, widget=forms.RadioSelect)
    reject_reason = forms.ChoiceField(required=False)

    def __init__(self, data=None, *, classes=(), **kwargs):
        from classifier.models import Label

        super().__init__(data, **kwargs)
        self.fields["label"].choices = _label_choices(classes)
        self.fields["reject_reason"].choices = [("", "")] + list(Label.RejectReason.choices)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("label") and not cleaned.get("reject_reason"):
            raise forms.ValidationError(_("Choose what the photo shows, or reject it."))
        return cleaned


class BulkConfirmForm(forms.Form):
    """Submission ids ticked on the grid (``ids``, repeated)."""

    ids = forms.CharField(required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.id_list = data.getlist("ids") if data is not None else []

    def clean(self):
        import uuid

        from classifier.labels.services import BULK_CONFIRM_LIMIT

        cleaned = super().clean()
        if not self.id_list:
            raise forms.ValidationError(_("Tick the photos to confirm first."))
        if len(self.id_list) > BULK_CONFIRM_LIMIT:
            raise forms.ValidationError(_("Confirm at most %(limit)s photos at once.") % {"limit": BULK_CONFIRM_LIMIT})
        try:
            cleaned["submission_ids"] = [uuid.UUID(value) for value in self.id_list]
        except ValueError:
            raise forms.ValidationError(_("Unknown photo.")) from None
        return cleaned


class ReportForm(forms.Form):
    """The range and district of the disease report (the last 12 weeks by default)."""

    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    district = forms.ChoiceField(
        label=_("District"), choices=[("", _("All districts"))] + list(District.choices), required=False
    )
    reviewed_only = forms.BooleanField(label=_("Reviewed photos only"), required=False)

    DEFAULT_WEEKS = 12

    def clean(self):
        from datetime import timedelta

        from django.utils import timezone

        from classifier.reports import MAX_REPORT_DAYS

        cleaned = super().clean()
        today = timezone.localdate()
        cleaned["date_to"] = cleaned.get("date_to") or today
        cleaned["date_from"] = cleaned.get("date_from") or cleaned["date_to"] - timedelta(
            weeks=self.DEFAULT_WEEKS, days=-1
        )
        if cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("'From' must be on or before 'To'."))
        if (cleaned["date_to"] - cleaned["date_from"]).days > MAX_REPORT_DAYS:
            raise forms.ValidationError(_("Choose a range of two years at most."))
        return cleaned


class LabelClassForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=64, help_text=_("lowercase_with_underscores, e.g. bacterial_wilt")
    )
    display_name = forms.CharField(label=_("Shown as"), max_length=100, required=False)


class DateRangeForm(forms.Form):
    """An optional range of upload dates (the agreement page: all time by default)."""

    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("'From' must be on or before 'To'."))
        return cleaned


class PromoteForm(forms.Form):
    """An admin's hand promotion: a reason for the log and an explicit confirmation."""

    reason = forms.CharField(
        label=_("Why promote it?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the change log, e.g. 'officers report it is right more often in Kisoro'."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this model answers every farmer from now on."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class RollbackForm(forms.Form):
    reason = forms.CharField(label=_("Why? (optional)"), max_length=1000, required=False)
