"""Monitoring: disease reports, model-officer agreement, and the CSV export."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from classifier import reports
from classifier.labels import selectors as label_selectors
from webapp.dashboard.access import officer_required
from webapp.dashboard.forms import DashboardFilterForm, DateRangeForm, ReportForm
from webapp.dashboard.presenters import filter_query, weekly_chart
from webapp.dashboard.views.queue import render_dashboard


@officer_required
@require_GET
def disease_report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET)
    report = chart = answer_times = None
    if form.is_valid():
        data = form.cleaned_data
        report = reports.disease_report(data["date_from"], data["date_to"], data["district"], data["reviewed_only"])
        chart = weekly_chart(report)
        answer_times = reports.answer_time_report(data["date_from"], data["date_to"], data["district"])
    return render_dashboard(
        request,
        "dashboard/reports.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "answer_times": answer_times,
            "query": filter_query(request.GET),
        },
        nav="reports",
    )


@officer_required
@require_GET
def agreement(request: HttpRequest) -> HttpResponse:
    form = DateRangeForm(request.GET)
    versions = []
    if form.is_valid():
        versions = reports.agreement_by_version(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    return render_dashboard(request, "dashboard/agreement.html", {"form": form, "versions": versions}, nav="agreement")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe_cell(value):
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@officer_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """Every diagnosed submission matching the filters, with prediction and current label, streamed."""
    form = DashboardFilterForm(request.GET or None, classes=label_selectors.label_classes(), default_status="all")
    if form.is_bound and not form.is_valid():  # never the whole table for a filter we could not read
        errors = "; ".join(message for messages in form.errors.values() for message in messages)
        return HttpResponseBadRequest(f"Bad filters: {errors}", content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())
    rows = (writer.writerow([_safe_cell(cell) for cell in row]) for row in reports.export_rows(form.filters()))
    filename = f"potato-submissions-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
