"""REST API of agents, tool services, tools and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

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
from agents.selectors import (
    agent_get,
    agent_list,
    api_key_get,
    api_key_list,
    tool_get,
    tool_list,
    tool_service_get,
    tool_service_list,
    user_get_by_username,
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
from config.api_auth import ADMIN_ONLY, BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role, api_user
from config.api_schemas import MAX_ID, Page, QuerySchema, page_of, patch_of, responses

router = Router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


# ------------------------------------------------------------------------------------------------ agents


@router.get("/agents", response=responses({200: Page[AgentOut]}), tags=["agents"])
def agents_list(request: HttpRequest, filters: Query[AgentFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(agent_list(q=filters.q, tag=filters.tag), filters)


@router.post("/agents", response=responses({201: AgentOut}), tags=["agents"])
def agents_create(request: HttpRequest, payload: AgentIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    agent = agent_create(data=payload.model_dump(), actor=api_actor(request))
    return Status(201, agent_get(agent.pk))


@router.get("/agents/{int:agent_id}", response=responses({200: AgentOut}), tags=["agents"])
def agents_get(request: HttpRequest, agent_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return agent_get(agent_id)


@router.patch("/agents/{int:agent_id}", response=responses({200: AgentOut}), tags=["agents"])
def agents_update(request: HttpRequest, agent_id: Id, payload: AgentPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    agent = agent_update(
        agent_get(agent_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return agent_get(agent.pk)


@router.delete("/agents/{int:agent_id}", response=responses({204: None}), tags=["agents"])
def agents_delete(request: HttpRequest, agent_id: Id) -> Any:
    """Delete an agent with its behavior, versions and sessions (admin only)."""
    api_require_role(request, ADMIN_ONLY)
    agent_delete(agent_get(agent_id), actor=api_actor(request))
    return Status(204, None)


# ----------------------------------------------------------------------------------------- tool services


@router.get("/tool-services", response=responses({200: Page[ToolServiceOut]}), tags=["tools"])
def tool_services_list(request: HttpRequest, filters: Query[AgentScopedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(tool_service_list(agent_id=filters.agent), filters)


@router.post("/tool-services", response=responses({201: ToolServiceOut}), tags=["tools"])
def tool_services_create(request: HttpRequest, payload: ToolServiceIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    return Status(
        201,
        tool_service_create(
            agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
        ),
    )


@router.get("/tool-services/{int:service_id}", response=responses({200: ToolServiceOut}), tags=["tools"])
def tool_services_get(request: HttpRequest, service_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return tool_service_get(service_id)


@router.patch("/tool-services/{int:service_id}", response=responses({200: ToolServiceOut}), tags=["tools"])
def tool_services_update(request: HttpRequest, service_id: Id, payload: ToolServicePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    service = tool_service_get(service_id)
    return tool_service_update(
        service,
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )


@router.delete("/tool-services/{int:service_id}", response=responses({204: None}), tags=["tools"])
def tool_services_delete(request: HttpRequest, service_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    tool_service_delete(tool_service_get(service_id), actor=api_actor(request))
    return Status(204, None)


# ------------------------------------------------------------------------------------------------- tools


@router.get("/tools", response=responses({200: Page[ToolOut]}), tags=["tools"])
def tools_list(request: HttpRequest, filters: Query[AgentScopedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(tool_list(agent_id=filters.agent), filters)


@router.post("/tools", response=responses({201: ToolOut}), tags=["tools"])
def tools_create(request: HttpRequest, payload: ToolIn) -> Any:
    """Create a tool with its typed parameters (python: implemented with `@tool`; remote: a tool service)."""
    api_require_role(request, BEHAVIOR_WRITE)
    tool = tool_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, tool_get(tool.pk))


@router.get("/tools/{int:tool_id}", response=responses({200: ToolOut}), tags=["tools"])
def tools_get(request: HttpRequest, tool_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return tool_get(tool_id)


@router.patch("/tools/{int:tool_id}", response=responses({200: ToolOut}), tags=["tools"])
def tools_update(request: HttpRequest, tool_id: Id, payload: ToolPatch) -> Any:  # type: ignore[valid-type]
    """Change a tool; `parameters`, when sent, replaces the whole parameter list."""
    api_require_role(request, BEHAVIOR_WRITE)
    tool = tool_update(
        tool_get(tool_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return tool_get(tool.pk)


@router.delete("/tools/{int:tool_id}", response=responses({204: None}), tags=["tools"])
def tools_delete(request: HttpRequest, tool_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    tool_delete(tool_get(tool_id), actor=api_actor(request))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------- API keys


@router.get("/api-keys", response=responses({200: Page[ApiKeyOut]}), tags=["api keys"])
def api_keys_list(request: HttpRequest, filters: Query[QuerySchema]) -> Any:
    """API keys (never their secret), newest first. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    return page_of(api_key_list(), filters)


@router.post("/api-keys", response=responses({201: ApiKeyCreatedOut}), tags=["api keys"])
def api_keys_create(request: HttpRequest, payload: ApiKeyIn) -> Any:
    """Create a key acting as `user` (a username; the caller's own user when omitted), with at most that user's
    roles; the response holds the full key, which is never shown again. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    owner = api_user(request) if payload.user is None else user_get_by_username(payload.user, path="user")
    key, raw = api_key_create(user=owner, name=payload.name, role=payload.role, created_by=api_user(request))
    key = api_key_get(key.pk)
    key.key = raw  # type: ignore[attr-defined]  # shown in this response only; only its hash is stored
    return Status(201, key)


@router.get("/api-keys/{int:key_id}", response=responses({200: ApiKeyOut}), tags=["api keys"])
def api_keys_get(request: HttpRequest, key_id: Id) -> Any:
    api_require_role(request, ADMIN_ONLY)
    return api_key_get(key_id)


@router.delete("/api-keys/{int:key_id}", response=responses({200: ApiKeyOut}), tags=["api keys"])
def api_keys_revoke(request: HttpRequest, key_id: Id) -> Any:
    """Revoke a key: it stops working at once; the record stays for the audit trail. Admin only."""
    api_require_role(request, ADMIN_ONLY)
    return api_key_revoke(api_key_get(key_id))
