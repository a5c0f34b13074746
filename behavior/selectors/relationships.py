"""Reads of relationships between guidelines, tags, journeys and tools."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from behavior.models import Relationship
from behavior.services.rows import row_get

ENDPOINT_FIELDS = tuple(
    f"{side}_{kind}" for side in ("source", "target") for kind in ("guideline", "tag", "journey", "tool")
)


def relationship_list(
    *, agent_id: int | None = None, kind: str | None = None, guideline_id: int | None = None
) -> QuerySet[Relationship]:
    """Relationships with their endpoints loaded; `guideline_id` keeps those with that guideline at either end."""
    relationships = Relationship.objects.select_related(*ENDPOINT_FIELDS)
    if agent_id is not None:
        relationships = relationships.filter(agent_id=agent_id)
    if kind:
        relationships = relationships.filter(kind=kind)
    if guideline_id is not None:
        relationships = relationships.filter(Q(source_guideline_id=guideline_id) | Q(target_guideline_id=guideline_id))
    return relationships.order_by("agent_id", "kind", "id")


def relationship_get(relationship_id: int, *, agent_id: int | None = None) -> Relationship:
    return row_get(relationship_list(agent_id=agent_id), relationship_id, what="relationship")
