"""URLs of the officers' dashboard, under ``/dashboard/``. Every view here is guarded by
:func:`webapp.access.officer_required` (or ``admin_required``); ``tests/test_dashboard_access.py``
walks these patterns to check it."""

from django.urls import path

from webapp.views import dashboard, dashboard_media, dashboard_models, dashboard_reports

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
    path("training/", dashboard_models.training, name="training"),
    path("training/retrain", dashboard_models.retrain, name="retrain"),
    path("training/<int:run_id>.json", dashboard_models.training_progress, name="training-progress"),
    path("training/<int:run_id>/cancel", dashboard_models.cancel_run, name="cancel-run"),
    path("models/", dashboard_models.model_versions, name="models"),
    path("models/v<int:number>/promote", dashboard_models.promote, name="promote"),
    path("models/v<int:number>/roll-back", dashboard_models.roll_back, name="roll-back"),
]
