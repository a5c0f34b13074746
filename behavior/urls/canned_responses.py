"""Canned response pages of an agent: the list, a new one, one response, editing, deleting, the live preview."""

from __future__ import annotations

from django.urls import path

from behavior.views import canned_responses as views

BASE = "agents/<int:agent_id>/canned-responses/"

urlpatterns = [
    path(BASE, views.canned_response_list_view, name="canned-response-list"),
    path(f"{BASE}new/", views.canned_response_create_view, name="canned-response-create"),
    path(f"{BASE}preview/", views.canned_response_preview, name="canned-response-preview"),
    path(f"{BASE}<int:canned_response_id>/", views.canned_response_detail, name="canned-response-detail"),
    path(f"{BASE}<int:canned_response_id>/edit/", views.canned_response_update_view, name="canned-response-update"),
    path(f"{BASE}<int:canned_response_id>/delete/", views.canned_response_delete_view, name="canned-response-delete"),
]
