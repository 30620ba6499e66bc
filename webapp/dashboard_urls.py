"""URLs of the officers' dashboard, under ``/dashboard/``. Every view here is guarded by
:func:`webapp.access.officer_required` (or ``admin_required``); ``tests/test_dashboard_access.py``
walks these patterns to check it."""

from django.urls import path

from webapp.views import dashboard, dashboard_media, dashboard_reports

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.queue, name="queue"),
    path("bulk-confirm", dashboard.bulk_confirm, name="bulk-confirm"),
    path("s/<uuid:submission_id>/", dashboard.review, name="review"),
    path("s/<uuid:submission_id>/label", dashboard.label, name="label"),
    path("s/<uuid:submission_id>/photo", dashboard_media.image, name="image"),
    path("s/<uuid:submission_id>/thumb", dashboard_media.thumbnail, name="thumbnail"),
    path("s/<uuid:submission_id>/heatmap", dashboard_media.heatmap, name="heatmap"),
    path("s/<uuid:submission_id>/heatmap.jpg", dashboard_media.heatmap_image, name="heatmap-image"),
    path("reports/", dashboard_reports.disease_report, name="reports"),
    path("agreement/", dashboard_reports.agreement, name="agreement"),
    path("export.csv", dashboard_reports.export_csv, name="export"),
    path("classes/", dashboard.label_classes, name="classes"),
    path("classes/add", dashboard.add_label_class, name="add-class"),
]
