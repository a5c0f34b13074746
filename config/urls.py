"""URL routes: the studio, the sandbox, the API, the admin and the accounts pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
