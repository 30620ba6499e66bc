"""The farmer's URLs: pages, the JSON API and the offline app's files (names unprefixed)."""

from django.urls import path

from webapp.farmer import api, pwa, views

urlpatterns = [
    path("", views.upload, name="upload"),
    path("s/<uuid:submission_id>/", views.submission, name="submission"),
    path("s/<uuid:submission_id>/photos", views.add_photo, name="submission-add-photo"),
    path("s/<uuid:submission_id>/photos/<int:position>.jpg", views.photo, name="submission-photo"),
    path("s/<uuid:submission_id>/check", views.field_check, name="submission-check"),
    path("api/v1/submissions", api.create_submission, name="api-submission-create"),
    path("api/v1/submissions/<uuid:submission_id>", api.submission_detail, name="api-submission-detail"),
    path("api/v1/submissions/<uuid:submission_id>/photos", api.add_photo, name="api-submission-add-photo"),
    path(
        "api/v1/submissions/<uuid:submission_id>/photos/<int:position>/original",
        api.photo_original,
        name="api-photo-original",
    ),
    path("api/v1/openapi.json", api.openapi_schema, name="api-openapi"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
]
