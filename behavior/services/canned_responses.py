"""Canned responses: pre-approved reply templates with `{{ field }}` placeholders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.models import Agent
from behavior.models import CannedResponse, ContextVariable, Guideline, JourneyState
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    invalid,
    row_clean,
    rows_referenced,
    tags_resolve,
    unique_or_conflict,
)

CANNED_FIELDS = ("key", "template", "fields", "signals")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _canned_write(
    response: CannedResponse, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> CannedResponse:
    before = write_begin(response, revision=revision)
    fields_apply(response, data, CANNED_FIELDS)
    unique_or_conflict(
        CannedResponse.objects.filter(agent_id=response.agent_id),
        field="key",
        value=response.key,
        what="A canned response of this agent",
        exclude=response.pk,
    )
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    guidelines = states = None
    if data.get("guidelines") is not None:
        own_guidelines = Guideline.objects.filter(agent_id=response.agent_id)
        guidelines = rows_referenced(
            own_guidelines, data["guidelines"], path="guidelines", what="guideline of this agent"
        )
    if data.get("journey_states") is not None:
        own_states = JourneyState.objects.filter(journey__agent_id=response.agent_id)
        states = rows_referenced(
            own_states, data["journey_states"], path="journey_states", what="journey state of this agent"
        )
    row_clean(response)
    variables = set(ContextVariable.objects.filter(agent_id=response.agent_id).values_list("name", flat=True))
    for index, field in enumerate(response.fields):
        if field.get("kind") == "variable" and field.get("name") not in variables:
            raise invalid(f"fields[{index}].name", f"unknown context variable {field.get('name')!r}")
    with conflict_on_integrity_error(f"This agent already has a canned response with key {response.key!r}."):
        response.save()
        if tags is not None:
            response.tags.set(tags)
        if guidelines is not None:
            response.guidelines.set(guidelines)
        if states is not None:
            response.journey_states.set(states)
        write_finish(response, before, actor=actor)
    return response


def canned_response_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> CannedResponse:
    """Create a canned response from CANNED_FIELDS, `tags` (names), `guidelines` and `journey_states` (ids)."""
    return _canned_write(CannedResponse(agent=agent), data, actor=actor)


def canned_response_update(
    response: CannedResponse, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> CannedResponse:
    return _canned_write(response, data, actor=actor, revision=revision)


@transaction.atomic
def canned_response_delete(response: CannedResponse, *, actor: Actor) -> None:
    delete_record(response, actor=actor)
    response.delete()
