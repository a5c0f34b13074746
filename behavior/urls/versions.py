"""Versions pages: the history and publishing, one version, diffs, rollback, export and import."""

from __future__ import annotations

from django.urls import path

from behavior.views import versions

urlpatterns = [
    path("agents/import/", versions.agent_import_new, name="agent-import-new"),
    path("agents/<int:agent_id>/import/", versions.agent_import, name="agent-import"),
    path("agents/<int:agent_id>/versions/", versions.version_list_view, name="version-list"),
    path("agents/<int:agent_id>/versions/publish/", versions.version_publish_view, name="version-publish"),
    path("agents/<int:agent_id>/versions/diff/", versions.version_diff_view, name="version-diff"),
    path("agents/<int:agent_id>/versions/export/", versions.version_export, name="version-export"),
    path("agents/<int:agent_id>/versions/<int:number>/", versions.version_detail, name="version-detail"),
    path(
        "agents/<int:agent_id>/versions/<int:number>/rollback/",
        versions.version_rollback_view,
        name="version-rollback",
    ),
]
