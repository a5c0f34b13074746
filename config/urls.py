"""URL routes: the studio, the sandbox, the API, the admin and the accounts pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api, api_route_not_found
from sessions.views.pages import home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("api/<path:path>", api_route_not_found),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sandbox/", include("sessions.urls")),
    path("", home, name="home"),
]
