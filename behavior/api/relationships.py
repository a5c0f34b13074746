"""Relationships between guidelines, tags, journeys and tools."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.models import Relationship
from behavior.schemas import RelationshipFilter, RelationshipIn, RelationshipOut, RelationshipPatch
from behavior.services.relationships import relationship_create, relationship_delete, relationship_update
from behavior.services.rows import row_get
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_require_role
from config.api_schemas import Page, page_of, responses

router = Router(tags=["relationships"])


def relationships_queryset() -> QuerySet[Relationship]:
    endpoints = [f"{side}_{kind}" for side in ("source", "target") for kind in ("guideline", "tag", "journey", "tool")]
    return Relationship.objects.select_related(*endpoints).order_by("agent_id", "kind", "id")


def relationship_get(relationship_id: int) -> Relationship:
    return row_get(relationships_queryset(), relationship_id, what="relationship")


@router.get("/relationships", response=responses({200: Page[RelationshipOut]}))
def relationships_list(request: HttpRequest, filters: Query[RelationshipFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    relationships = relationships_queryset()
    if filters.agent:
        relationships = relationships.filter(agent_id=filters.agent)
    if filters.kind:
        relationships = relationships.filter(kind=filters.kind)
    if filters.guideline:
        relationships = relationships.filter(
            Q(source_guideline_id=filters.guideline) | Q(target_guideline_id=filters.guideline)
        )
    return page_of(relationships, filters)


@router.post("/relationships", response=responses({201: RelationshipOut}))
def relationships_create(request: HttpRequest, payload: RelationshipIn) -> Any:
    """Create a relationship. Kinds illegal for the endpoint types, self-loops and overrides/depends_on
    cycles are refused (422); a duplicate is a conflict (409)."""
    api_require_role(request, BEHAVIOR_WRITE)
    relationship = relationship_create(agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}))
    return Status(201, relationship_get(relationship.pk))


@router.get("/relationships/{int:relationship_id}", response=responses({200: RelationshipOut}))
def relationships_get(request: HttpRequest, relationship_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return relationship_get(relationship_id)


@router.patch("/relationships/{int:relationship_id}", response=responses({200: RelationshipOut}))
def relationships_update(request: HttpRequest, relationship_id: Id, payload: RelationshipPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    relationship = relationship_update(relationship_get(relationship_id), data=payload.changes())  # type: ignore[attr-defined]
    return relationship_get(relationship.pk)


@router.delete("/relationships/{int:relationship_id}", response=responses({204: None}))
def relationships_delete(request: HttpRequest, relationship_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    relationship_delete(relationship_get(relationship_id))
    return Status(204, None)
