"""Tag pages, seen from one agent (tags themselves are global): the list with usage counts, a new tag,
renaming and deleting one."""

from __future__ import annotations

from django.urls import path

from behavior.views import tags

urlpatterns = [
    path("agents/<int:agent_id>/tags/", tags.tag_list_view, name="tag-list"),
    path("agents/<int:agent_id>/tags/new/", tags.tag_create_view, name="tag-create"),
    path("agents/<int:agent_id>/tags/<int:tag_id>/edit/", tags.tag_update_view, name="tag-update"),
    path("agents/<int:agent_id>/tags/<int:tag_id>/delete/", tags.tag_delete_view, name="tag-delete"),
]
