"""Admin area URLs (admins only): users and their roles, API keys."""

from __future__ import annotations

from django.urls import path

from behavior.views import admin

urlpatterns = [
    path("admin/", admin.admin_home, name="admin-home"),
    path("admin/users/", admin.admin_user_list, name="admin-user-list"),
    path("admin/users/new/", admin.admin_user_create, name="admin-user-create"),
    path("admin/users/<int:user_id>/", admin.admin_user_update, name="admin-user-update"),
    path("admin/keys/", admin.admin_key_list, name="admin-key-list"),
    path("admin/keys/new/", admin.admin_key_create, name="admin-key-create"),
    path("admin/keys/<int:key_id>/revoke/", admin.admin_key_revoke, name="admin-key-revoke"),
]
