"""REST API of agents, tool services, tools and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from agents.models import Agent, ApiKey, Tool, ToolService
from agents.schemas import (
    AgentFilter,
    AgentIn,
    AgentOut,
    AgentPatch,
    AgentScopedFilter,
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ToolIn,
    ToolOut,
    ToolPatch,
    ToolServiceIn,
    ToolServiceOut,
    ToolServicePatch,
)
from agents.services import (
    agent_create,
    agent_delete,
    agent_update,
    api_key_create,
    api_key_revoke,
    tool_create,
    tool_delete,
    tool_service_create,
    tool_service_delete,
    tool_service_update,
    tool_update,
)
from behavior.services.rows import row_get
from config.api_auth import ADMIN_ONLY, BEHAVIOR_READ, BEHAVIOR_WRITE, api_require_role, api_user
from config.api_schemas import MAX_ID, Page, QuerySchema, page_of, responses
from config.errors import ValidationFailed

router = Router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def agents_queryset() -> QuerySet[Agent]:
    return Agent.objects.select_related("published_version").prefetch_related("tags").order_by("name", "id")


def agent_get(agent_id: int) -> Agent:
    return row_get(agents_queryset(), agent_id, what="agent")


# ------------------------------------------------------------------------------------------------ agents


@router.get("/agents", response=responses({200: Page[AgentOut]}), tags=["agents"])
def agents_list(request: HttpRequest, filters: Query[AgentFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    agents = agents_queryset()
    if filters.tag:
        agents = agents.filter(tags__name=filters.tag)
    if filters.q:
        agents = agents.filter(name__icontains=filters.q)
    return page_of(agents, filters)


@router.post("/agents", response=responses({201: AgentOut}), tags=["agents"])
def agents_create(request: HttpRequest, payload: AgentIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    agent = agent_create(data=payload.model_dump())
    return Status(201, agent_get(agent.pk))


@router.get("/agents/{int:agent_id}", response=responses({200: AgentOut}), tags=["agents"])
def agents_get(request: HttpRequest, agent_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return agent_get(agent_id)


@router.patch("/agents/{int:agent_id}", response=responses({200: AgentOut}), tags=["agents"])
def agents_update(request: HttpRequest, agent_id: Id, payload: AgentPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    agent = agent_update(agent_get(agent_id), data=payload.changes())  # type: ignore[attr-defined]
    return agent_get(agent.pk)


@router.delete("/agents/{int:agent_id}", response=responses({204: None}), tags=["agents"])
def agents_delete(request: HttpRequest, agent_id: Id) -> Any:
    """Delete an agent with its behavior, versions and sessions (admin only)."""
    api_require_role(request, ADMIN_ONLY)
    agent_delete(agent_get(agent_id))
    return Status(204, None)


# ----------------------------------------------------------------------------------------- tool services


def tool_services_queryset() -> QuerySet[ToolService]:
    return ToolService.objects.order_by("agent_id", "name", "id")


@router.get("/tool-services", response=responses({200: Page[ToolServiceOut]}), tags=["tools"])
def tool_services_list(request: HttpRequest, filters: Query[AgentScopedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    services = tool_services_queryset()
    if filters.agent:
        services = services.filter(agent_id=filters.agent)
    return page_of(services, filters)


@router.post("/tool-services", response=responses({201: ToolServiceOut}), tags=["tools"])
def tool_services_create(request: HttpRequest, payload: ToolServiceIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    return Status(201, tool_service_create(agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"})))


@router.get("/tool-services/{int:service_id}", response=responses({200: ToolServiceOut}), tags=["tools"])
def tool_services_get(request: HttpRequest, service_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return row_get(tool_services_queryset(), service_id, what="tool service")


@router.patch("/tool-services/{int:service_id}", response=responses({200: ToolServiceOut}), tags=["tools"])
def tool_services_update(request: HttpRequest, service_id: Id, payload: ToolServicePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    service = row_get(tool_services_queryset(), service_id, what="tool service")
    return tool_service_update(service, data=payload.changes())  # type: ignore[attr-defined]


@router.delete("/tool-services/{int:service_id}", response=responses({204: None}), tags=["tools"])
def tool_services_delete(request: HttpRequest, service_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    tool_service_delete(row_get(tool_services_queryset(), service_id, what="tool service"))
    return Status(204, None)


# ------------------------------------------------------------------------------------------------- tools


def tools_queryset() -> QuerySet[Tool]:
    return Tool.objects.prefetch_related("parameters").order_by("agent_id", "name", "id")


@router.get("/tools", response=responses({200: Page[ToolOut]}), tags=["tools"])
def tools_list(request: HttpRequest, filters: Query[AgentScopedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    tools = tools_queryset()
    if filters.agent:
        tools = tools.filter(agent_id=filters.agent)
    return page_of(tools, filters)


@router.post("/tools", response=responses({201: ToolOut}), tags=["tools"])
def tools_create(request: HttpRequest, payload: ToolIn) -> Any:
    """Create a tool with its typed parameters (python: implemented with `@tool`; remote: a tool service)."""
    api_require_role(request, BEHAVIOR_WRITE)
    tool = tool_create(agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}))
    return Status(201, row_get(tools_queryset(), tool.pk, what="tool"))


@router.get("/tools/{int:tool_id}", response=responses({200: ToolOut}), tags=["tools"])
def tools_get(request: HttpRequest, tool_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return row_get(tools_queryset(), tool_id, what="tool")


@router.patch("/tools/{int:tool_id}", response=responses({200: ToolOut}), tags=["tools"])
def tools_update(request: HttpRequest, tool_id: Id, payload: ToolPatch) -> Any:  # type: ignore[valid-type]
    """Change a tool; `parameters`, when sent, replaces the whole parameter list."""
    api_require_role(request, BEHAVIOR_WRITE)
    tool = tool_update(row_get(tools_queryset(), tool_id, what="tool"), data=payload.changes())  # type: ignore[attr-defined]
    return row_get(tools_queryset(), tool.pk, what="tool")


@router.delete("/tools/{int:tool_id}", response=responses({204: None}), tags=["tools"])
def tools_delete(request: HttpRequest, tool_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    tool_delete(row_get(tools_queryset(), tool_id, what="tool"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------- API keys


def api_keys_queryset() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("-created_at", "-id")


@router.get("/api-keys", response=responses({200: Page[ApiKeyOut]}), tags=["api keys"])
def api_keys_list(request: HttpRequest, filters: Query[QuerySchema]) -> Any:
    """API keys (never their secret), newest first. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    return page_of(api_keys_queryset(), filters)


@router.post("/api-keys", response=responses({201: ApiKeyCreatedOut}), tags=["api keys"])
def api_keys_create(request: HttpRequest, payload: ApiKeyIn) -> Any:
    """Create a key; the response holds the full key, which is never shown again. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    try:
        key, raw = api_key_create(name=payload.name, role=payload.role, created_by=api_user(request))
    except ValueError as error:
        raise ValidationFailed(str(error), details=[{"path": "", "message": str(error)}]) from None
    key = row_get(api_keys_queryset(), key.pk, what="API key")
    key.key = raw  # type: ignore[attr-defined]  # shown in this response only; only its hash is stored
    return Status(201, key)


@router.get("/api-keys/{int:key_id}", response=responses({200: ApiKeyOut}), tags=["api keys"])
def api_keys_get(request: HttpRequest, key_id: Id) -> Any:
    api_require_role(request, ADMIN_ONLY)
    return row_get(api_keys_queryset(), key_id, what="API key")


@router.delete("/api-keys/{int:key_id}", response=responses({200: ApiKeyOut}), tags=["api keys"])
def api_keys_revoke(request: HttpRequest, key_id: Id) -> Any:
    """Revoke a key: it stops working at once; the record stays for the audit trail. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    return api_key_revoke(row_get(api_keys_queryset(), key_id, what="API key"))
