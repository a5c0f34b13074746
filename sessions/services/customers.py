"""Customers: the one way to create one (API, sandbox test customers, demo data), to change one and to delete
one. Every error is a domain error naming the field (ValidationFailed, Conflict)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from agents.models import Agent
from behavior.models import ContextVariable, ContextVariableValue, Tag, VariableScope
from behavior.services.rows import (
    conflict_on_integrity_error,
    invalid,
    row_clean,
    tags_resolve,
    unique_or_conflict,
)
from sessions.models import Customer

CUSTOMER_NAME_MAX_CHARS = 200
CUSTOMER_METADATA_MAX_BYTES = 16 * 1024
CUSTOMER_TAGS_MAX = 100
VARIABLE_VALUE_MAX_CHARS = 4000


def _metadata_check(metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise invalid("metadata", "the metadata must be an object")
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    if size > CUSTOMER_METADATA_MAX_BYTES:
        raise invalid("metadata", f"the metadata is {size} bytes; the limit is {CUSTOMER_METADATA_MAX_BYTES}")
    return dict(metadata)


def _name_check(name: Any) -> str:
    clean = (name or "").strip() if isinstance(name, str) else ""
    if not clean:
        raise invalid("name", "the customer needs a name")
    if len(clean) > CUSTOMER_NAME_MAX_CHARS:
        raise invalid("name", f"at most {CUSTOMER_NAME_MAX_CHARS} characters")
    return clean


def _tags(tags: Sequence[Tag | str]) -> list[Tag]:
    names = list(dict.fromkeys(tag.name if isinstance(tag, Tag) else str(tag).strip() for tag in tags))
    names = [name for name in names if name]
    if len(names) > CUSTOMER_TAGS_MAX:
        raise invalid("tags", f"at most {CUSTOMER_TAGS_MAX} tags")
    return tags_resolve(names)


def _parsed_value(text: str) -> Any:
    """A value typed in a form: JSON when it parses (`42`, `true`, `{"a": 1}`), the text otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _variable_values(agent: Agent, values: Mapping[str, Any]) -> list[tuple[ContextVariable, Any]]:
    variables = {variable.name: variable for variable in ContextVariable.objects.filter(agent=agent)}
    rows = []
    for name, raw in values.items():
        variable = variables.get(name)
        if variable is None:
            raise invalid(f"variables.{name}", f"agent {agent.name!r} has no context variable {name!r}")
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                continue  # a blank field sets nothing
            if len(text) > VARIABLE_VALUE_MAX_CHARS:
                raise invalid(f"variables.{name}", f"at most {VARIABLE_VALUE_MAX_CHARS} characters")
            raw = _parsed_value(text)
        rows.append((variable, raw))
    return rows


@transaction.atomic  # all or nothing: a refused customer leaves no tag or value behind
def customer_create(
    *,
    name: str,
    external_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[Tag | str] = (),
    agent: Agent | None = None,
    variable_values: Mapping[str, Any] | None = None,
) -> Customer:
    """Create a customer. `tags` are Tag rows or names (created when new). With `agent`, `variable_values`
    sets per-customer values of that agent's context variables (text that parses as JSON is stored as JSON;
    blank text is skipped). ValidationFailed names the field; a taken external id is a Conflict."""
    clean_name = _name_check(name)
    external = (external_id or "").strip() or None
    if external is not None:
        unique_or_conflict(Customer.objects.all(), field="external_id", value=external, what="A customer")
    clean_metadata = _metadata_check(metadata or {})
    tag_rows = _tags(tags)
    values = _variable_values(agent, variable_values) if agent is not None and variable_values else []
    if variable_values and agent is None:
        raise invalid("variables", "variable values need the agent whose variables they are")
    customer = Customer(name=clean_name, external_id=external, metadata=clean_metadata)
    row_clean(customer)
    with conflict_on_integrity_error(f"A customer with external id {external!r} already exists."):
        customer.save()
        if tag_rows:
            customer.tags.add(*tag_rows)
        for variable, value in values:
            row = ContextVariableValue(variable=variable, scope=VariableScope.CUSTOMER, customer=customer, value=value)
            row_clean(row, prefix=f"variables.{variable.name}.")
            row.save()
    return customer


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def customer_update(customer: Customer, *, data: Mapping[str, Any]) -> Customer:
    """Change the given fields (`name`, `external_id`, `metadata`, `tags` names, replacing the current ones)."""
    if "name" in data:
        customer.name = _name_check(data["name"])
    if "external_id" in data:
        customer.external_id = (data["external_id"] or "").strip() or None
        if customer.external_id is not None:
            unique_or_conflict(
                Customer.objects.all(),
                field="external_id",
                value=customer.external_id,
                what="A customer",
                exclude=customer.pk,
            )
    if "metadata" in data:
        customer.metadata = _metadata_check(data["metadata"])
    tag_rows = _tags(list(data["tags"])) if data.get("tags") is not None else None
    row_clean(customer)
    with conflict_on_integrity_error(f"A customer with external id {customer.external_id!r} already exists."):
        customer.save()
        if tag_rows is not None:
            customer.tags.set(tag_rows)
    return customer


def sandbox_customer_for(user: Any) -> Customer:
    """The user's own test customer for quick tries from the studio (created the first time)."""
    existing = Customer.objects.filter(metadata__sandbox_owner=user.pk).order_by("pk").first()
    if existing is not None:
        return existing
    return customer_create(
        name=f"Test customer of {user.get_username()}"[:CUSTOMER_NAME_MAX_CHARS], metadata={"sandbox_owner": user.pk}
    )


def customer_delete(customer: Customer) -> None:
    """Delete a customer with their sessions and per-customer variable values."""
    customer.delete()
