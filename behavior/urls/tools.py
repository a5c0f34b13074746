"""Tools pages: the agent's tools, one tool and its edit form, remote tool services (add by URL, refresh, delete)."""

from __future__ import annotations

from django.urls import path

from behavior.views import tools

BASE = "agents/<int:agent_id>/tools/"
TOOL = BASE + "<int:tool_id>/"
SERVICE = BASE + "services/<int:service_id>/"

urlpatterns = [
    path(BASE, tools.tool_list, name="tool-list"),
    path(TOOL, tools.tool_detail, name="tool-detail"),
    path(TOOL + "edit/", tools.tool_update_view, name="tool-update"),
    path(BASE + "services/new/", tools.tool_service_create_view, name="tool-service-create"),
    path(SERVICE, tools.tool_service_detail, name="tool-service-detail"),
    path(SERVICE + "refresh/", tools.tool_service_refresh_view, name="tool-service-refresh"),
    path(SERVICE + "delete/", tools.tool_service_delete_view, name="tool-service-delete"),
]
