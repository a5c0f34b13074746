"""Agent-level state changes: API keys (owned by a user, created once, stored hashed, revocable); users and their
roles; agents, tool services (refreshed from their OpenAPI document) and tools with their typed parameters."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from agents.models import (
    Agent,
    ApiKey,
    ApiKeyRole,
    Tool,
    ToolImplementation,
    ToolParameter,
    ToolService,
    default_llm_model,
)
from agents.permissions import ALL_ROLES, Role, user_roles
from agents.tools.definitions import ToolDefinition
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    invalid,
    row_clean,
    row_referenced,
    tags_resolve,
    unique_or_conflict,
    validation_failed,
)
from config.errors import Conflict, DomainError

API_KEY_PATTERN = re.compile(r"^dec_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})\Z")
API_KEY_MAX_LENGTH = 120
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_roles(key: ApiKey) -> frozenset[str]:
    """The roles a key acts with: its owner's roles capped by the key's role (an admin key keeps every role of
    its owner). Empty when the owner is gone, inactive or no longer holds the key's role: the key stops working."""
    owner = key.user if key.user_id is not None else None
    held = user_roles(owner)
    if key.role not in held:
        return frozenset()
    return frozenset(held) if key.role == ApiKeyRole.ADMIN else frozenset({key.role})


def api_key_create(*, user: Any, name: str, role: str, created_by: Any = None) -> tuple[ApiKey, str]:
    """Create a key owned by `user` (it acts as them, with at most `role`) and return it with its plaintext
    `dec_<prefix>_<secret>`, which is never stored or shown again. ValidationFailed names the refused field."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise invalid("name", "An API key needs a name of 1 to 100 characters.")
    if role not in ApiKeyRole.values:
        raise invalid("role", f"Unknown role {role!r} (use {', '.join(ApiKeyRole.values)}).")
    if user is None or getattr(user, "pk", None) is None:
        raise invalid("user", "An API key needs an owner: the user it acts as.")
    if not user.is_active:
        raise invalid("user", f"{user.get_username()} is deactivated; an API key of theirs would not work.")
    if role not in user_roles(user):
        raise invalid("role", f"{user.get_username()} does not hold the {role} role; a key cannot have more rights.")
    for _attempt in range(5):  # the 8-hex prefix is unique; retry the rare collision
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    else:
        raise RuntimeError("Could not allocate a unique API key prefix.")
    raw = f"dec_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(raw),
            role=role,
            user=user,
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )
    return key, raw


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The working key matching `raw`, or None. Compares hashes in constant time and records the use.

    A key works while it is not revoked and its owner is active and still holds the key's role. The returned
    key's `user` carries the key's roles (api_key_roles), so every role check on it sees the capped set."""
    if not isinstance(raw, str) or len(raw) > API_KEY_MAX_LENGTH:
        return None
    match = API_KEY_PATTERN.match(raw.strip())
    if match is None:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.key_hash, api_key_hash(raw.strip())):
        return None
    if key.revoked_at is not None:
        return None
    roles = api_key_roles(key)
    if not roles:
        return None
    key.user._decorum_roles = roles  # type: ignore[union-attr]  # the key acts as its owner, capped by its role
    now = timezone.now()
    # One write per key per minute at most: a busy client must not turn every read into a write.
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(key: ApiKey) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key


# ---------------------------------------------------------------------------------------------------------
# Agents, tool services and tools (the REST API's CRUD). `data` holds plain values and ids, as the API's
# input schemas produce them; every write validates the whole row and maps duplicates to Conflict (409).

AGENT_FIELDS = (
    "name",
    "description",
    "model",
    "temperature",
    "llm_profile",
    "composition_mode",
    "no_match_reply",
    "max_preparation_iterations",
    "moderation",
    "preamble",
)
TOOL_SERVICE_FIELDS = ("name", "url", "timeout_seconds")
TOOL_FIELDS = ("name", "description", "implementation", "consequential", "timeout_seconds")
TOOL_PARAMETER_FIELDS = ("name", "type", "description", "required", "enum", "items")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _agent_write(agent: Agent, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None) -> Agent:
    before = write_begin(agent, revision=revision)
    fields_apply(agent, data, AGENT_FIELDS)
    if "model" in data and data["model"] is None:
        agent.model = default_llm_model()
    if "name" in data:
        unique_or_conflict(Agent.objects.all(), field="name", value=agent.name, what="An agent", exclude=agent.pk)
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    row_clean(agent)
    with conflict_on_integrity_error(f"An agent named {agent.name!r} already exists."):
        agent.save()
        if tags is not None:
            agent.tags.set(tags)
        write_finish(agent, before, actor=actor)
    return agent


def agent_create(*, data: Mapping[str, Any], actor: Actor) -> Agent:
    """Create an agent from AGENT_FIELDS and `tags` (names)."""
    return _agent_write(Agent(), data, actor=actor)


def agent_update(agent: Agent, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None) -> Agent:
    """Change the given fields of an agent (`tags`, when present, replaces the agent's tags)."""
    return _agent_write(agent, data, actor=actor, revision=revision)


def agent_delete(agent: Agent, *, actor: Actor) -> None:
    """Delete an agent with its whole behavior model, versions and sessions."""
    try:
        with transaction.atomic():
            delete_record(agent, actor=actor)
            agent.delete()
    except (ProtectedError, RestrictedError) as error:
        raise Conflict(f"Agent {agent.name!r} cannot be deleted: {error.args[0]}") from None


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _tool_service_write(
    service: ToolService, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> ToolService:
    before = write_begin(service, revision=revision)
    fields_apply(service, data, TOOL_SERVICE_FIELDS)
    unique_or_conflict(
        ToolService.objects.filter(agent_id=service.agent_id),
        field="name",
        value=service.name,
        what="A tool service of this agent",
        exclude=service.pk,
    )
    row_clean(service)
    with conflict_on_integrity_error(f"This agent already has a tool service named {service.name!r}."):
        service.save()
        write_finish(service, before, actor=actor)
    return service


def tool_service_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> ToolService:
    return _tool_service_write(ToolService(agent=agent), data, actor=actor)


def tool_service_update(
    service: ToolService, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> ToolService:
    return _tool_service_write(service, data, actor=actor, revision=revision)


@transaction.atomic
def tool_service_delete(service: ToolService, *, actor: Actor, with_tools: bool = False) -> None:
    """Delete a tool service; refused (409) while remote tools still call it, unless `with_tools` deletes them
    too (each refused while a journey state or context variable depends on it)."""
    if with_tools:
        for tool in list(service.tools.all()):
            tool_delete(tool, actor=actor)
    users = list(service.tools.values_list("name", flat=True))
    if users:
        raise Conflict(
            f"Tool service {service.name!r} is used by the tools {', '.join(users)}; delete or change them first.",
            details=[{"path": "tools", "message": ", ".join(users)}],
        )
    delete_record(service, actor=actor)
    service.delete()


def _tool_parameters(tool: Tool, parameters: Sequence[Mapping[str, Any]]) -> list[ToolParameter]:
    rows = []
    seen: set[str] = set()
    for position, values in enumerate(parameters):
        name = values.get("name")
        if name in seen:
            raise invalid(f"parameters[{position}].name", f"parameter {name!r} is listed twice")
        seen.add(str(name))
        row = ToolParameter(tool=tool, position=position)
        fields_apply(row, dict(values), TOOL_PARAMETER_FIELDS)
        row_clean(row, prefix=f"parameters[{position}].", exclude=["tool"])
        rows.append(row)
    return rows


def _tool_parameters_state(tool: Tool) -> dict[str, Any]:
    if tool.pk is None:
        return {}
    return {
        "parameters": [
            {name: getattr(row, name) for name in TOOL_PARAMETER_FIELDS}
            for row in tool.parameters.order_by("position", "id")
        ]
    }


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _tool_write(tool: Tool, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None) -> Tool:
    before = write_begin(tool, revision=revision, extra=_tool_parameters_state(tool))
    fields_apply(tool, data, TOOL_FIELDS)
    if "service" in data:
        services = ToolService.objects.filter(agent_id=tool.agent_id)
        tool.service = row_referenced(services, data["service"], path="service", what="tool service")
    unique_or_conflict(
        Tool.objects.filter(agent_id=tool.agent_id),
        field="name",
        value=tool.name,
        what="A tool of this agent",
        exclude=tool.pk,
    )
    row_clean(tool)
    parameters = _tool_parameters(tool, data["parameters"]) if data.get("parameters") is not None else None
    with conflict_on_integrity_error(f"This agent already has a tool named {tool.name!r}."):
        tool.save()
        if parameters is not None:
            tool.parameters.all().delete()
            for row in parameters:
                row.tool = tool
            ToolParameter.objects.bulk_create(parameters)
        write_finish(tool, before, actor=actor, extra=_tool_parameters_state(tool))
    return tool


def tool_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> Tool:
    """Create a tool from TOOL_FIELDS, `service` (id) and `parameters` (list of TOOL_PARAMETER_FIELDS)."""
    return _tool_write(Tool(agent=agent), data, actor=actor)


def tool_update(tool: Tool, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None) -> Tool:
    """Change the given fields of a tool; `parameters`, when present, replaces the whole parameter list."""
    return _tool_write(tool, data, actor=actor, revision=revision)


@transaction.atomic
def tool_delete(tool: Tool, *, actor: Actor) -> None:
    """Delete a tool; refused (409) while a journey tool state or a context variable depends on it."""
    states = [str(state) for state in tool.journey_tool_states.select_related("journey")]
    variables = list(tool.context_variables.values_list("name", flat=True))
    if states or variables:
        users = [*(f"journey state {state}" for state in states), *(f"context variable {name}" for name in variables)]
        raise Conflict(
            f"Tool {tool.name!r} is used by {', '.join(users)}; change them first.",
            details=[{"path": "", "message": user} for user in users],
        )
    delete_record(tool, actor=actor, extra=_tool_parameters_state(tool))
    tool.delete()


# ---------------------------------------------------------------------------------------------------------
# Refreshing a remote tool service: its OpenAPI document's operations become (or update) the agent's remote
# tools. A tool the service no longer offers is reported, not deleted (journeys may still name it).


class ToolServiceUnreachable(DomainError):
    status = 502
    code = "tool_service_unreachable"


@dataclass(frozen=True)
class ToolServiceRefresh:
    """What a refresh did: tool names created, updated, unchanged; skipped (name, why); no longer offered."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _definition_data(definition: ToolDefinition, service: ToolService) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description[:4000],
        "implementation": ToolImplementation.REMOTE,
        "service": service.pk,
        "consequential": definition.consequential,
        "timeout_seconds": definition.timeout_seconds,
        "parameters": [parameter.to_document() for parameter in definition.parameters],
    }


def _tool_matches(tool: Tool, data: Mapping[str, Any]) -> bool:
    current = {name: getattr(tool, name) for name in TOOL_FIELDS}
    current["parameters"] = _tool_parameters_state(tool)["parameters"]
    wanted = {name: data[name] for name in (*TOOL_FIELDS, "parameters")}
    return current == wanted


def tool_service_refresh(service: ToolService, *, actor: Actor) -> ToolServiceRefresh:
    """Fetch the service's tool list (through the remote tool client) and create or update its remote tools.
    ToolServiceUnreachable (502) when the document cannot be fetched or parsed; nothing changes then."""
    from agents.tools import remote
    from agents.tools.errors import ToolError

    try:
        definitions = remote.tool_service_load_sync(service.url, timeout=service.timeout_seconds)
    except ToolError as error:
        raise ToolServiceUnreachable(
            f"Could not load the tools of {service.name}: {str(error)[:500]}", details={"url": service.url}
        ) from None
    result = ToolServiceRefresh()
    offered = set()
    with transaction.atomic():
        tools = {tool.name: tool for tool in Tool.objects.filter(agent_id=service.agent_id)}
        for definition in definitions:
            offered.add(definition.name)
            data = _definition_data(definition, service)
            existing = tools.get(definition.name)
            if existing is None:
                tool_create(agent=service.agent, data=data, actor=actor)
                result.created.append(definition.name)
            elif existing.service_id != service.pk:
                other = existing.service
                owner = f"tool service {other.name}" if other is not None else "a Python tool"
                result.skipped.append((definition.name, f"the name is taken by {owner}"))
            elif _tool_matches(existing, data):
                result.unchanged.append(definition.name)
            else:
                tool_update(existing, data=data, actor=actor)
                result.updated.append(definition.name)
        result.missing.extend(
            sorted(name for name, tool in tools.items() if tool.service_id == service.pk and name not in offered)
        )
    return result


# ---------------------------------------------------------------------------------------------------------
# Users and their roles (the studio's admin area). A role is membership of the group of that name.


def _roles_checked(roles: Sequence[str]) -> list[str]:
    unknown = sorted(set(roles) - ALL_ROLES)
    if unknown:
        raise invalid("roles", f"Unknown role(s): {', '.join(unknown)}.")
    return sorted(set(roles))


def _roles_set(user: Any, roles: Sequence[str]) -> None:
    groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
    user.groups.remove(*user.groups.filter(name__in=ALL_ROLES).exclude(name__in=roles))
    user.groups.add(*groups)
    user.__dict__.pop("_decorum_roles", None)


@transaction.atomic
def user_create(*, username: str, password: str, roles: Sequence[str], email: str = "") -> Any:
    """Create an active user with a password (checked by the configured password validators) and roles."""
    model = get_user_model()
    username = (username or "").strip()
    if not username:
        raise invalid("username", "A user needs a username.")
    if model.objects.filter(username__iexact=username).exists():
        raise Conflict(
            f"A user named {username!r} already exists.",
            details=[{"path": "username", "message": f"A user named {username!r} already exists."}],
        )
    roles = _roles_checked(roles)
    user = model(username=username, email=email)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise validation_failed([{"path": "password", "message": message} for message in error.messages]) from None
    user.set_password(password)
    user.save()
    _roles_set(user, roles)
    return user


@transaction.atomic
def user_update(user: Any, *, roles: Sequence[str], is_active: bool, by: Any) -> Any:
    """Set a user's roles and whether they may log in (their API keys stop working when they lose a key's role
    or are deactivated). An admin cannot take the admin role from, or deactivate, themselves."""
    roles = _roles_checked(roles)
    if getattr(by, "pk", None) == user.pk:
        if not is_active:
            raise invalid("is_active", "You cannot deactivate yourself; ask another admin.")
        if Role.ADMIN not in roles and not user.is_superuser:
            raise invalid("roles", "You cannot remove your own admin role; ask another admin.")
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    _roles_set(user, roles)
    return user
