"""Context variables and their values (nested under the variable)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import (
    ContextValueIn,
    ContextValueOut,
    ContextValuePatch,
    ContextVariableIn,
    ContextVariableOut,
    ContextVariablePatch,
    TaggedFilter,
)
from behavior.selectors import (
    context_value_get,
    context_value_list,
    context_variable_get,
    context_variable_list,
)
from behavior.services.variables import (
    context_value_create,
    context_value_delete,
    context_value_update,
    context_variable_create,
    context_variable_delete,
    context_variable_update,
)
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, QuerySchema, page_of, patch_of, responses

router = Router(tags=["context variables"])


@router.get("/context-variables", response=responses({200: Page[ContextVariableOut]}))
def variables_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(context_variable_list(agent_id=filters.agent, tag=filters.tag, q=filters.q), filters)


@router.post("/context-variables", response=responses({201: ContextVariableOut}))
def variables_create(request: HttpRequest, payload: ContextVariableIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, context_variable_get(variable.pk))


@router.get("/context-variables/{int:variable_id}", response=responses({200: ContextVariableOut}))
def variables_get(request: HttpRequest, variable_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return context_variable_get(variable_id)


@router.patch("/context-variables/{int:variable_id}", response=responses({200: ContextVariableOut}))
def variables_update(request: HttpRequest, variable_id: Id, payload: ContextVariablePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_update(
        context_variable_get(variable_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return context_variable_get(variable.pk)


@router.delete("/context-variables/{int:variable_id}", response=responses({204: None}))
def variables_delete(request: HttpRequest, variable_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    context_variable_delete(context_variable_get(variable_id), actor=api_actor(request))
    return Status(204, None)


# ------------------------------------------------------------------------------------------------ values


@router.get("/context-variables/{int:variable_id}/values", response=responses({200: Page[ContextValueOut]}))
def values_list(request: HttpRequest, variable_id: Id, filters: Query[QuerySchema]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    variable = context_variable_get(variable_id)
    return page_of(context_value_list(variable), filters)


@router.post("/context-variables/{int:variable_id}/values", response=responses({201: ContextValueOut}))
def values_create(request: HttpRequest, variable_id: Id, payload: ContextValueIn) -> Any:
    """Set a value: the default, one per customer tag (`tag`), or one per customer (`customer`)."""
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_get(variable_id)
    value = context_value_create(variable, data=payload.model_dump(), actor=api_actor(request))
    return Status(201, context_value_get(variable, value.pk))


@router.get("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({200: ContextValueOut}))
def values_get(request: HttpRequest, variable_id: Id, value_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return context_value_get(context_variable_get(variable_id), value_id)


@router.patch("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({200: ContextValueOut}))
def values_update(request: HttpRequest, variable_id: Id, value_id: Id, payload: ContextValuePatch) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_get(variable_id)
    value = context_value_update(
        context_value_get(variable, value_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return context_value_get(variable, value.pk)


@router.delete("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({204: None}))
def values_delete(request: HttpRequest, variable_id: Id, value_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    context_value_delete(context_value_get(context_variable_get(variable_id), value_id), actor=api_actor(request))
    return Status(204, None)
