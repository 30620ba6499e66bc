"""The site's URLs: the farmer's pages and API, the officers' dashboard, health checks, admin, sign-in."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from webapp import health
from webapp.dashboard.views import translations

handler404 = "webapp.farmer.api.page_not_found"

urlpatterns = [
    path("", include("webapp.farmer.urls")),
    path("dashboard/translations/", translations.translations, name="translations-review"),
    path("healthz", health.health, name="health"),
    path("healthz/workers", health.workers, name="health-workers"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("webapp.dashboard.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
