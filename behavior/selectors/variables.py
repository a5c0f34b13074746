"""Reads of context variables and their values."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from behavior.models import ContextVariable, ContextVariableValue
from behavior.services.rows import row_get


def context_variable_list(
    *, agent_id: int | None = None, tag: str | None = None, q: str | None = None
) -> QuerySet[ContextVariable]:
    variables = ContextVariable.objects.select_related("tool").prefetch_related("tags")
    if agent_id is not None:
        variables = variables.filter(agent_id=agent_id)
    if tag:
        variables = variables.filter(tags__name=tag)
    if q:
        variables = variables.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return variables.order_by("agent_id", "name", "id")


def context_variable_get(variable_id: int, *, agent_id: int | None = None) -> ContextVariable:
    return row_get(context_variable_list(agent_id=agent_id), variable_id, what="context variable")


def context_value_list(variable: ContextVariable) -> QuerySet[ContextVariableValue]:
    return (
        ContextVariableValue.objects.filter(variable=variable)
        .select_related("tag", "variable", "customer")
        .order_by("scope", "id")
    )


def context_value_get(variable: ContextVariable, value_id: int) -> ContextVariableValue:
    """A value of this variable; a value of another variable is NotFound, like a missing one."""
    return row_get(context_value_list(variable), value_id, what=f"value of context variable {variable.pk}")
