"""Agent pages: the list, a new agent, its overview, its settings, deleting it."""

from __future__ import annotations

from django.urls import path

from behavior.views import agents

urlpatterns = [
    path("", agents.agent_list, name="agent-list"),
    path("agents/new/", agents.agent_create_view, name="agent-create"),
    path("agents/<int:agent_id>/", agents.agent_detail, name="agent-detail"),
    path("agents/<int:agent_id>/settings/", agents.agent_update_view, name="agent-update"),
    path("agents/<int:agent_id>/delete/", agents.agent_delete_view, name="agent-delete"),
]
