"""Relationships between guidelines, tags, journeys and tools."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import RelationshipFilter, RelationshipIn, RelationshipOut, RelationshipPatch
from behavior.selectors import relationship_get, relationship_list
from behavior.services.relationships import relationship_create, relationship_delete, relationship_update
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["relationships"])


@router.get("/relationships", response=responses({200: Page[RelationshipOut]}))
def relationships_list(request: HttpRequest, filters: Query[RelationshipFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    relationships = relationship_list(agent_id=filters.agent, kind=filters.kind, guideline_id=filters.guideline)
    return page_of(relationships, filters)


@router.post("/relationships", response=responses({201: RelationshipOut}))
def relationships_create(request: HttpRequest, payload: RelationshipIn) -> Any:
    """Create a relationship. Kinds illegal for the endpoint types, self-loops and overrides/depends_on
    cycles are refused (422); a duplicate is a conflict (409)."""
    api_require_role(request, BEHAVIOR_WRITE)
    relationship = relationship_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, relationship_get(relationship.pk))


@router.get("/relationships/{int:relationship_id}", response=responses({200: RelationshipOut}))
def relationships_get(request: HttpRequest, relationship_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return relationship_get(relationship_id)


@router.patch("/relationships/{int:relationship_id}", response=responses({200: RelationshipOut}))
def relationships_update(request: HttpRequest, relationship_id: Id, payload: RelationshipPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    relationship = relationship_update(
        relationship_get(relationship_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return relationship_get(relationship.pk)


@router.delete("/relationships/{int:relationship_id}", response=responses({204: None}))
def relationships_delete(request: HttpRequest, relationship_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    relationship_delete(relationship_get(relationship_id), actor=api_actor(request))
    return Status(204, None)
