"""Admins export the checked field photos as a dataset (``classifier.collection.dataset``): a zip with one folder
per class, ``MANIFEST.csv``, ``DATASHEET.md`` and ``LICENSE.txt``. For a large collection,
``manage.py export_field_dataset`` writes the same to a folder."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from classifier import checked
from classifier.collection.dataset import DatasetOptions, zip_dataset
from webapp.dashboard.access import admin_required
from webapp.dashboard.collect_forms import DatasetForm
from webapp.dashboard.views.queue import render_dashboard


@admin_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    form = DatasetForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        options = DatasetOptions(data["title"], data["licence"], data["publisher"], form.sources())
        name = f"kigezi-field-photos-{timezone.localdate():%Y%m%d}"
        archive = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
        zip_dataset(archive, options, folder=name)
        archive.seek(0)
        return FileResponse(archive, as_attachment=True, filename=f"{name}.zip", content_type="application/zip")
    counts = checked.checked_photo_counts()
    totals = {source: sum(counts.of(label, source) for label in counts.by_class) for source in checked.SOURCES}
    return render_dashboard(
        request,
        "dashboard/collect_export.html",
        {"form": form, "totals": totals},
        status=400 if form.is_bound else 200,
        nav="collect",
    )
