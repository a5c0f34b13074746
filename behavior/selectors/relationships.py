"""Reads of relationships between guidelines, tags, journeys and tools."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agents.models import Tool
from behavior.models import EndpointType, Guideline, Journey, Relationship, Tag
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


# The field holding each endpoint type's stable reference (key or name), searched by the relationships page.
ENDPOINT_REF_FIELDS = {"guideline": "key", "journey": "key", "tag": "name", "tool": "name"}


def relationship_search(
    *, agent_id: int, kind: str | None = None, type: str | None = None, q: str | None = None, tool: int | None = None
) -> QuerySet[Relationship]:
    """The agent's relationships for the studio's list: of one kind, with an end of one type, with one tool at
    either end, or with an end whose key or name contains `q`."""
    relationships = relationship_list(agent_id=agent_id, kind=kind or None)
    if type:
        relationships = relationships.filter(Q(source_type=type) | Q(target_type=type))
    if tool is not None:
        relationships = relationships.filter(Q(source_tool_id=tool) | Q(target_tool_id=tool))
    if q:
        matches = Q()
        for side in ("source", "target"):
            for endpoint_type, field in ENDPOINT_REF_FIELDS.items():
                matches |= Q(**{f"{side}_{endpoint_type}__{field}__icontains": q})
        relationships = relationships.filter(matches)
    return relationships


def guideline_relationships(guideline: Guideline) -> dict[str, list[Relationship]]:
    """The relationships around one guideline: outgoing (it is the source), incoming (it is the target), and
    those that reach it through one of its tags (read-only context on its page)."""
    tag_ids = [tag.pk for tag in guideline.tags.all()]
    around = relationship_list(agent_id=guideline.agent_id).filter(
        Q(source_guideline_id=guideline.pk)
        | Q(target_guideline_id=guideline.pk)
        | Q(source_tag_id__in=tag_ids)
        | Q(target_tag_id__in=tag_ids)
    )
    grouped: dict[str, list[Relationship]] = {"outgoing": [], "incoming": [], "via_tags": []}
    for relationship in around:
        if relationship.source_guideline_id == guideline.pk:
            grouped["outgoing"].append(relationship)
        elif relationship.target_guideline_id == guideline.pk:
            grouped["incoming"].append(relationship)
        else:
            grouped["via_tags"].append(relationship)
    return grouped


RELATIONSHIP_TARGETS_MAX = 20


def relationship_target_find(*, agent_id: int, endpoint_type: str, ref: str) -> Guideline | Tag | Journey | Tool | None:
    """The endpoint of this type the studio user named: a guideline or journey by key, a tag or tool by name
    (tags are global; the others belong to the agent)."""
    if endpoint_type == EndpointType.GUIDELINE:
        return Guideline.objects.filter(agent_id=agent_id, key=ref).first()
    if endpoint_type == EndpointType.JOURNEY:
        return Journey.objects.filter(agent_id=agent_id, key=ref).first()
    if endpoint_type == EndpointType.TOOL:
        return Tool.objects.filter(agent_id=agent_id, name=ref).first()
    if endpoint_type == EndpointType.TAG:
        return Tag.objects.filter(name=ref).first()
    return None


def relationship_targets(
    *, agent_id: int, endpoint_type: str, q: str = "", limit: int = RELATIONSHIP_TARGETS_MAX
) -> list[dict[str, Any]]:
    """Up to `limit` endpoints of one type whose key or name (or a guideline's title or condition, a journey's
    title) contains `q`: [{"id", "ref", "label"}], for the typeahead of the relationship form."""
    limit = max(1, min(limit, RELATIONSHIP_TARGETS_MAX))
    rows: list[dict[str, Any]]
    if endpoint_type == EndpointType.GUIDELINE:
        guidelines = Guideline.objects.filter(agent_id=agent_id)
        if q:
            guidelines = guidelines.filter(Q(key__icontains=q) | Q(title__icontains=q) | Q(condition__icontains=q))
        rows = [
            {"id": pk, "ref": key, "label": title or condition[:120]}
            for pk, key, title, condition in guidelines.order_by("key").values_list("pk", "key", "title", "condition")[
                :limit
            ]
        ]
    elif endpoint_type == EndpointType.JOURNEY:
        journeys = Journey.objects.filter(agent_id=agent_id)
        if q:
            journeys = journeys.filter(Q(key__icontains=q) | Q(title__icontains=q))
        rows = [
            {"id": pk, "ref": key, "label": title}
            for pk, key, title in journeys.order_by("key").values_list("pk", "key", "title")[:limit]
        ]
    elif endpoint_type == EndpointType.TOOL:
        tools = Tool.objects.filter(agent_id=agent_id)
        if q:
            tools = tools.filter(name__icontains=q)
        rows = [
            {"id": pk, "ref": name, "label": description[:120]}
            for pk, name, description in tools.order_by("name").values_list("pk", "name", "description")[:limit]
        ]
    elif endpoint_type == EndpointType.TAG:
        tags = Tag.objects.all()
        if q:
            tags = tags.filter(name__icontains=q)
        rows = [
            {"id": pk, "ref": name, "label": ""} for pk, name in tags.order_by("name").values_list("pk", "name")[:limit]
        ]
    else:
        rows = []
    return rows
