"""URLs of the officers' dashboard, under ``/dashboard/``. Every view here is guarded by
:func:`webapp.dashboard.access.officer_required` (or ``admin_required``); ``tests/test_dashboard_access.py``
walks these patterns to check it."""

from django.urls import path

from webapp.dashboard.views import collect, collect_api, collect_export, media, model_versions, queue, reports

app_name = "dashboard"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("bulk-confirm", queue.bulk_confirm, name="bulk-confirm"),
    path("s/<uuid:submission_id>/", queue.review, name="review"),
    path("s/<uuid:submission_id>/label", queue.label, name="label"),
    path("s/<uuid:submission_id>/photo", media.image, name="image"),
    path("s/<uuid:submission_id>/unusable", queue.mark_unusable, name="mark-unusable"),
    path("s/<uuid:submission_id>/thumb", media.thumbnail, name="thumbnail"),
    path("s/<uuid:submission_id>/heatmap", media.heatmap, name="heatmap"),
    path("s/<uuid:submission_id>/heatmap.jpg", media.heatmap_image, name="heatmap-image"),
    path("reports/", reports.disease_report, name="reports"),
    path("agreement/", reports.agreement, name="agreement"),
    path("export.csv", reports.export_csv, name="export"),
    path("classes/", queue.label_classes, name="classes"),
    path("classes/add", queue.add_label_class, name="add-class"),
    path("training/", model_versions.training, name="training"),
    path("training/retrain", model_versions.retrain, name="retrain"),
    path("training/<int:run_id>.json", model_versions.training_progress, name="training-progress"),
    path("training/<int:run_id>/cancel", model_versions.cancel_run, name="cancel-run"),
    path("models/", model_versions.model_versions, name="models"),
    path("models/v<int:number>/promote", model_versions.promote, name="promote"),
    path("models/v<int:number>/roll-back", model_versions.roll_back, name="roll-back"),
    path("collect/", collect.collect, name="collect"),
    path("collect/sw.js", collect.service_worker, name="collect-sw"),
    path("collect/v/<uuid:visit_id>/", collect.visit, name="collect-visit"),
    path("collect/v/<uuid:visit_id>/label", collect.relabel, name="collect-relabel"),
    path("collect/p/<uuid:photo_id>/photo", collect.photo, name="collect-photo"),
    path("collect/p/<uuid:photo_id>/thumb", collect.photo_thumbnail, name="collect-thumbnail"),
    path("collect/p/<uuid:photo_id>/unusable", collect.mark_photo, name="collect-mark-photo"),
    path("collect/api/visits", collect_api.visits, name="collect-api-visits"),
    path("collect/api/photos", collect_api.photos, name="collect-api-photos"),
    path("collect/export", collect_export.export, name="collect-export"),
]
