"""URL routes: the studio, the sandbox, the inbox, the API, the admin and the accounts pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api, api_route_not_found
from config.views import home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("api/<path:path>", api_route_not_found),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("studio/", include("behavior.urls")),
    path("sandbox/", include("sessions.urls")),
    path("inbox/", include("sessions.inbox.urls")),
    path("widget/", include("sessions.widget.urls")),
    path("", home, name="home"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
