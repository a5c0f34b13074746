"""Guideline pages (list, new, page, edit, toggle, delete, bulk) and the relationships panel on a guideline's
page (add, remove, typeahead of targets)."""

from __future__ import annotations

from django.urls import path

from behavior.views import guidelines, relationships

BASE = "agents/<int:agent_id>/guidelines/"
ONE = BASE + "<int:guideline_id>/"

urlpatterns = [
    path(BASE, guidelines.guideline_list_view, name="guideline-list"),
    path(BASE + "new/", guidelines.guideline_create_view, name="guideline-create"),
    path(BASE + "bulk/", guidelines.guideline_bulk_view, name="guideline-bulk"),
    path(ONE, guidelines.guideline_detail_view, name="guideline-detail"),
    path(ONE + "edit/", guidelines.guideline_update_view, name="guideline-update"),
    path(ONE + "toggle/", guidelines.guideline_toggle_view, name="guideline-toggle"),
    path(ONE + "delete/", guidelines.guideline_delete_view, name="guideline-delete"),
    path(
        "agents/<int:agent_id>/relationships/new/", relationships.relationship_create_view, name="relationship-create"
    ),
    path(
        "agents/<int:agent_id>/relationships/<int:relationship_id>/delete/",
        relationships.relationship_delete_view,
        name="relationship-delete",
    ),
    path(
        "agents/<int:agent_id>/relationships/targets/",
        relationships.relationship_targets_view,
        name="relationship-targets",
    ),
]
