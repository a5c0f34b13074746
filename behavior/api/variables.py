"""Context variables and their values (nested under the variable)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.models import ContextVariable, ContextVariableValue
from behavior.schemas import (
    ContextValueIn,
    ContextValueOut,
    ContextValuePatch,
    ContextVariableIn,
    ContextVariableOut,
    ContextVariablePatch,
    TaggedFilter,
)
from behavior.services.rows import row_get
from behavior.services.variables import (
    context_value_create,
    context_value_delete,
    context_value_update,
    context_variable_create,
    context_variable_delete,
    context_variable_update,
)
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_require_role
from config.api_schemas import Page, QuerySchema, page_of, responses

router = Router(tags=["context variables"])


def variables_queryset() -> QuerySet[ContextVariable]:
    return ContextVariable.objects.prefetch_related("tags").order_by("agent_id", "name", "id")


def variable_get(variable_id: int) -> ContextVariable:
    return row_get(variables_queryset(), variable_id, what="context variable")


def value_get(variable: ContextVariable, value_id: int) -> ContextVariableValue:
    """A value of this variable; a value of another variable is NotFound, like a missing one."""
    values = ContextVariableValue.objects.filter(variable=variable).select_related("tag", "variable")
    return row_get(values, value_id, what=f"value of context variable {variable.pk}")


@router.get("/context-variables", response=responses({200: Page[ContextVariableOut]}))
def variables_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    variables = variables_queryset()
    if filters.agent:
        variables = variables.filter(agent_id=filters.agent)
    if filters.tag:
        variables = variables.filter(tags__name=filters.tag)
    if filters.q:
        variables = variables.filter(name__icontains=filters.q)
    return page_of(variables, filters)


@router.post("/context-variables", response=responses({201: ContextVariableOut}))
def variables_create(request: HttpRequest, payload: ContextVariableIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_create(agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}))
    return Status(201, variable_get(variable.pk))


@router.get("/context-variables/{int:variable_id}", response=responses({200: ContextVariableOut}))
def variables_get(request: HttpRequest, variable_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return variable_get(variable_id)


@router.patch("/context-variables/{int:variable_id}", response=responses({200: ContextVariableOut}))
def variables_update(request: HttpRequest, variable_id: Id, payload: ContextVariablePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    variable = context_variable_update(variable_get(variable_id), data=payload.changes())  # type: ignore[attr-defined]
    return variable_get(variable.pk)


@router.delete("/context-variables/{int:variable_id}", response=responses({204: None}))
def variables_delete(request: HttpRequest, variable_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    context_variable_delete(variable_get(variable_id))
    return Status(204, None)


# ------------------------------------------------------------------------------------------------ values


@router.get("/context-variables/{int:variable_id}/values", response=responses({200: Page[ContextValueOut]}))
def values_list(request: HttpRequest, variable_id: Id, filters: Query[QuerySchema]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    variable = variable_get(variable_id)
    values = ContextVariableValue.objects.filter(variable=variable).select_related("tag").order_by("scope", "id")
    return page_of(values, filters)


@router.post("/context-variables/{int:variable_id}/values", response=responses({201: ContextValueOut}))
def values_create(request: HttpRequest, variable_id: Id, payload: ContextValueIn) -> Any:
    """Set a value: the default, one per customer tag (`tag`), or one per customer (`customer`)."""
    api_require_role(request, BEHAVIOR_WRITE)
    variable = variable_get(variable_id)
    value = context_value_create(variable, data=payload.model_dump())
    return Status(201, value_get(variable, value.pk))


@router.get("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({200: ContextValueOut}))
def values_get(request: HttpRequest, variable_id: Id, value_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return value_get(variable_get(variable_id), value_id)


@router.patch("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({200: ContextValueOut}))
def values_update(request: HttpRequest, variable_id: Id, value_id: Id, payload: ContextValuePatch) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    variable = variable_get(variable_id)
    value = context_value_update(value_get(variable, value_id), data=payload.changes())
    return value_get(variable, value.pk)


@router.delete("/context-variables/{int:variable_id}/values/{int:value_id}", response=responses({204: None}))
def values_delete(request: HttpRequest, variable_id: Id, value_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    context_value_delete(value_get(variable_get(variable_id), value_id))
    return Status(204, None)
