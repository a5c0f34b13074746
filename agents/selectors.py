"""Reads of agents, their tools and tool services, and API keys (shared by the REST API and the studio)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agents.models import Agent, ApiKey, Tool, ToolService
from behavior.services.rows import row_get


def agent_list(*, q: str | None = None, tag: str | None = None) -> QuerySet[Agent]:
    agents = Agent.objects.select_related("published_version").prefetch_related("tags")
    if tag:
        agents = agents.filter(tags__name=tag)
    if q:
        agents = agents.filter(name__icontains=q)
    return agents.order_by("name", "id")


def agent_get(agent_id: int) -> Agent:
    """The agent, or NotFound (404)."""
    return row_get(agent_list(), agent_id, what="agent")


def tool_service_list(*, agent_id: int | None = None) -> QuerySet[ToolService]:
    services = ToolService.objects.all()
    if agent_id is not None:
        services = services.filter(agent_id=agent_id)
    return services.order_by("agent_id", "name", "id")


def tool_service_get(service_id: int, *, agent_id: int | None = None) -> ToolService:
    return row_get(tool_service_list(agent_id=agent_id), service_id, what="tool service")


def tool_list(*, agent_id: int | None = None, q: str | None = None) -> QuerySet[Tool]:
    tools = Tool.objects.select_related("service").prefetch_related("parameters")
    if agent_id is not None:
        tools = tools.filter(agent_id=agent_id)
    if q:
        tools = tools.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return tools.order_by("agent_id", "name", "id")


def tool_get(tool_id: int, *, agent_id: int | None = None) -> Tool:
    return row_get(tool_list(agent_id=agent_id), tool_id, what="tool")


def api_key_list(*, user_id: int | None = None) -> QuerySet[ApiKey]:
    """API keys newest first (all of them, or one user's)."""
    keys = ApiKey.objects.select_related("created_by")
    if user_id is not None:
        keys = keys.filter(created_by_id=user_id)
    return keys.order_by("-created_at", "-id")


def api_key_get(key_id: int) -> ApiKey:
    return row_get(api_key_list(), key_id, what="API key")


def llm_status(agent: Agent | None) -> dict[str, Any]:
    """Whether the agent's language model server is configured, and a message saying what to set if not."""
    from agents.llm.factory import llm_configuration_status

    status = llm_configuration_status()
    profile = (agent.llm_profile if agent is not None else "") or "default"
    profiles = status.get("profiles", {})
    entry = profiles.get(profile.lower()) or profiles.get(profile)
    if entry is None:
        prefix = f"LLM_PROFILE_{profile.upper().replace('-', '_')}_"
        return {
            "configured": False,
            "message": f"The language model profile {profile!r} is not configured: set {prefix}BASE_URL",
        }
    if entry.get("configured"):
        return {"configured": True, "message": f"Language model server: {entry.get('server', '')}"}
    return {"configured": False, "message": str(entry.get("message", status.get("message", "")))}
