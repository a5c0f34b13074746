"""The agent-wide relationships page (every relationship of the agent: filters, search, add, delete). Adding,
deleting and the typeahead of ends are shared with a guideline's panel and routed in behavior/urls/guidelines.py."""

from __future__ import annotations

from django.urls import path

from behavior.views import relationships

urlpatterns = [
    path("agents/<int:agent_id>/relationships/", relationships.relationship_list_view, name="relationship-list"),
]
