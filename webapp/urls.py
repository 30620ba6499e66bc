from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from webapp.views import api, farmer, health, pwa, translations

urlpatterns = [
    path("", farmer.upload, name="upload"),
    path("s/<uuid:submission_id>/", farmer.submission, name="submission"),
    path("api/v1/submissions", api.create_submission, name="api-submission-create"),
    path("api/v1/submissions/<uuid:submission_id>", api.submission_detail, name="api-submission-detail"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("dashboard/translations/", translations.translations, name="translations-review"),
    path("healthz", health.health, name="health"),
    path("healthz/workers", health.workers, name="health-workers"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("webapp.dashboard_urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
