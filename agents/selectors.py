"""Reads of agents, their tools and tool services, API keys and users (shared by the REST API and the studio)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q, QuerySet

from agents.models import Agent, ApiKey, Tool, ToolService
from agents.permissions import ALL_ROLES, Role
from behavior.services.rows import invalid, row_get


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


def tool_list_with_usage(agent_id: int, *, q: str | None = None) -> QuerySet[Tool]:
    """The agent's tools with how many guidelines, journey states and context variables use each."""
    return tool_list(agent_id=agent_id, q=q).annotate(
        guideline_count=Count("guidelines", distinct=True),
        state_count=Count("journey_states", distinct=True) + Count("journey_tool_states", distinct=True),
        variable_count=Count("context_variables", distinct=True),
    )


def tool_usage(tool: Tool) -> dict[str, list[Any]]:
    """What uses the tool: guidelines that may call it, journey states that call or may call it, context
    variables it feeds."""
    states = {state.pk: state for state in tool.journey_tool_states.select_related("journey")}
    states.update({state.pk: state for state in tool.journey_states.select_related("journey")})
    return {
        "guidelines": list(tool.guidelines.order_by("key")),
        "journey_states": sorted(states.values(), key=lambda state: (state.journey.key, state.key)),
        "variables": list(tool.context_variables.order_by("name")),
    }


def registered_python_tool_names() -> set[str]:
    """Names of the Python tools this server registered with `@tool` (a python tool without one cannot run)."""
    from agents.tools.registry import registered_tools

    return {registered.definition.name for registered in registered_tools()}


def api_key_list(*, user_id: int | None = None, q: str | None = None) -> QuerySet[ApiKey]:
    """API keys newest first (all of them, or those owned by one user), searchable by name, prefix or owner."""
    keys = ApiKey.objects.select_related("user", "created_by")
    if user_id is not None:
        keys = keys.filter(user_id=user_id)
    if q:
        keys = keys.filter(Q(name__icontains=q) | Q(prefix__icontains=q) | Q(user__username__icontains=q))
    return keys.order_by("-created_at", "-id")


def api_key_get(key_id: int, *, user_id: int | None = None) -> ApiKey:
    return row_get(api_key_list(user_id=user_id), key_id, what="API key")


def user_list(*, q: str | None = None, role: str | None = None) -> QuerySet[Any]:
    """Users by username with their role groups, searchable by username, name or email, filterable by role."""
    users = get_user_model().objects.prefetch_related(
        Prefetch("groups", queryset=Group.objects.filter(name__in=ALL_ROLES).order_by("name"))
    )
    if q:
        users = users.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
        )
    if role in ALL_ROLES:
        users = users.filter(Q(groups__name=role) | Q(is_superuser=True) | Q(groups__name=Role.ADMIN)).distinct()
    return users.order_by("username", "id")


def user_get(user_id: int) -> Any:
    """The user, or NotFound (404)."""
    return row_get(user_list(), user_id, what="user")


def user_get_by_username(username: str, *, path: str = "username") -> Any:
    """The user with this username, or ValidationFailed on `path` (a name typed into a form or payload)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise invalid(path, f"No user named {username[:150]!r}.")
    return user


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
