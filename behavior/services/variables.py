"""Context variables and their values (default, per customer tag, per customer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.models import Agent, Tool
from behavior.models import ContextVariable, ContextVariableValue, VariableScope
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    invalid,
    row_clean,
    row_referenced,
    tags_resolve,
    unique_or_conflict,
)
from config.errors import Conflict

VARIABLE_FIELDS = ("name", "description", "freshness_seconds")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _variable_write(
    variable: ContextVariable, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> ContextVariable:
    before = write_begin(variable, revision=revision)
    fields_apply(variable, data, VARIABLE_FIELDS)
    if "tool" in data:
        own_tools = Tool.objects.filter(agent_id=variable.agent_id)
        variable.tool = row_referenced(own_tools, data["tool"], path="tool", what="tool of this agent")
    unique_or_conflict(
        ContextVariable.objects.filter(agent_id=variable.agent_id),
        field="name",
        value=variable.name,
        what="A context variable of this agent",
        exclude=variable.pk,
    )
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    row_clean(variable)
    with conflict_on_integrity_error(f"This agent already has a context variable named {variable.name!r}."):
        variable.save()
        if tags is not None:
            variable.tags.set(tags)
        write_finish(variable, before, actor=actor)
    return variable


def context_variable_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> ContextVariable:
    """Create a variable from VARIABLE_FIELDS, `tool` (id of the agent's tool or null) and `tags` (names)."""
    return _variable_write(ContextVariable(agent=agent), data, actor=actor)


def context_variable_update(
    variable: ContextVariable, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> ContextVariable:
    return _variable_write(variable, data, actor=actor, revision=revision)


@transaction.atomic
def context_variable_delete(variable: ContextVariable, *, actor: Actor) -> None:
    """Delete a variable with all its values."""
    delete_record(variable, actor=actor)
    variable.delete()


def _value_key_set(value: ContextVariableValue, data: Mapping[str, Any]) -> None:
    from sessions.models import Customer

    scope = data.get("scope", value.scope)
    tag_name = data.get("tag")
    customer_id = data.get("customer")
    if scope == VariableScope.CUSTOMER_TAG:
        if tag_name is None:
            raise invalid("tag", "a customer_tag value needs a tag name")
        if customer_id is not None:
            raise invalid("customer", "a customer_tag value has no customer")
        value.tag = tags_resolve([tag_name], path="tag")[0]
        value.customer = None
    elif scope == VariableScope.CUSTOMER:
        if customer_id is None:
            raise invalid("customer", "a customer value needs a customer id")
        if tag_name is not None:
            raise invalid("tag", "a customer value has no tag")
        value.customer = row_referenced(Customer.objects.all(), customer_id, path="customer", what="customer")
        value.tag = None
    else:
        if tag_name is not None or customer_id is not None:
            raise invalid("scope", "a default value has neither a tag nor a customer")
        value.tag = None
        value.customer = None
    value.scope = scope


def _value_duplicate_check(value: ContextVariableValue) -> None:
    key: dict[str, Any] = {"tag_id": value.tag_id, "customer_id": value.customer_id}  # None means IS NULL here
    duplicate = (
        ContextVariableValue.objects.filter(variable_id=value.variable_id, scope=value.scope, **key)
        .exclude(pk=value.pk)
        .first()
    )
    if duplicate is not None:
        raise Conflict(
            f"Variable {value.variable.name!r} already has this {value.scope} value (id {duplicate.pk}).",
            details=[{"path": "scope", "message": f"duplicate of value {duplicate.pk}"}],
        )


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _value_write(
    value: ContextVariableValue, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> ContextVariableValue:
    before = write_begin(value, revision=revision)
    if value.pk is None:
        _value_key_set(value, data)
    if "value" in data:
        value.value = data["value"]
    _value_duplicate_check(value)
    row_clean(value)
    with conflict_on_integrity_error(f"Variable {value.variable.name!r} already has this {value.scope} value."):
        value.save()
        write_finish(value, before, actor=actor)
    return value


def context_value_create(variable: ContextVariable, *, data: Mapping[str, Any], actor: Actor) -> ContextVariableValue:
    """Set a value: `scope` default | customer_tag (with `tag`, a name) | customer (with `customer`, an id)."""
    return _value_write(ContextVariableValue(variable=variable), data, actor=actor)


def context_value_update(
    value: ContextVariableValue, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> ContextVariableValue:
    """Change a value's `value`; its scope and key are fixed (delete it and set a new one instead)."""
    return _value_write(value, data, actor=actor, revision=revision)


@transaction.atomic
def context_value_delete(value: ContextVariableValue, *, actor: Actor) -> None:
    delete_record(value, actor=actor)
    value.delete()
