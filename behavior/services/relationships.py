"""Relationships: deterministic rules between two guidelines, tags, journeys or tools of one agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.models import Agent, Tool
from behavior.models import EndpointType, Guideline, Journey, Relationship, Tag
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import conflict_on_integrity_error, row_clean, row_referenced
from config.errors import Conflict


def _endpoint_queryset(agent_id: int, endpoint_type: str) -> Any:
    if endpoint_type == EndpointType.TAG:
        return Tag.objects.all()  # tags are global
    model = {EndpointType.GUIDELINE: Guideline, EndpointType.JOURNEY: Journey, EndpointType.TOOL: Tool}[
        EndpointType(endpoint_type)
    ]
    return model._default_manager.filter(agent_id=agent_id)


def _endpoint_set(relationship: Relationship, side: str, endpoint: Mapping[str, Any]) -> None:
    endpoint_type = endpoint["type"]
    row = row_referenced(
        _endpoint_queryset(relationship.agent_id, endpoint_type),
        endpoint["id"],
        path=f"{side}.id",
        what=f"{endpoint_type} of this agent" if endpoint_type != EndpointType.TAG else "tag",
    )
    setattr(relationship, f"{side}_type", endpoint_type)
    for other in EndpointType.values:
        setattr(relationship, f"{side}_{other}", row if other == endpoint_type else None)


def _duplicate_check(relationship: Relationship) -> None:
    source_type, target_type = relationship.source_type, relationship.target_type
    duplicate = (
        Relationship.objects.filter(
            agent_id=relationship.agent_id,
            kind=relationship.kind,
            source_type=source_type,
            target_type=target_type,
            **{
                f"source_{source_type}_id": getattr(relationship, f"source_{source_type}_id"),
                f"target_{target_type}_id": getattr(relationship, f"target_{target_type}_id"),
            },
        )
        .exclude(pk=relationship.pk)
        .first()
    )
    if duplicate is not None:
        raise Conflict(
            f"This agent already has the relationship {relationship} (id {duplicate.pk}).",
            details=[{"path": "", "message": f"duplicate of relationship {duplicate.pk}"}],
        )


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _relationship_write(
    relationship: Relationship, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> Relationship:
    before = write_begin(relationship, revision=revision)
    if "kind" in data:
        relationship.kind = data["kind"]
    for side in ("source", "target"):
        if data.get(side) is not None:
            _endpoint_set(relationship, side, data[side])
    _duplicate_check(relationship)
    row_clean(relationship)  # kinds legal for the endpoint types, no self-loop, no cycle
    with conflict_on_integrity_error("The relationship conflicts with a concurrent change."):
        relationship.save()
        write_finish(relationship, before, actor=actor)
    return relationship


def relationship_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> Relationship:
    """Create a relationship: `kind`, `source` and `target` ({"type": guideline|tag|journey|tool, "id": ...})."""
    return _relationship_write(Relationship(agent=agent), data, actor=actor)


def relationship_update(
    relationship: Relationship, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> Relationship:
    return _relationship_write(relationship, data, actor=actor, revision=revision)


@transaction.atomic
def relationship_delete(relationship: Relationship, *, actor: Actor) -> None:
    delete_record(relationship, actor=actor)
    relationship.delete()
