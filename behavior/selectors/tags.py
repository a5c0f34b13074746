"""Reads of tags (global labels)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from behavior.models import Tag
from behavior.services.rows import row_get


def tag_list(*, q: str | None = None) -> QuerySet[Tag]:
    tags = Tag.objects.all()
    if q:
        tags = tags.filter(name__icontains=q)
    return tags.order_by("name")


def tag_get(tag_id: int) -> Tag:
    return row_get(Tag.objects.all(), tag_id, what="tag")


def tag_usage_list(*, agent_id: int, q: str | None = None, used_only: bool = True) -> QuerySet[Tag]:
    """Tags annotated with how often one agent uses them (`usage_<what>` counts and `usage_total`); with
    `used_only`, only the tags the agent uses. `customer_count` counts every customer carrying the tag."""
    from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce

    from agents.models import Agent
    from behavior.models import (
        CannedResponse,
        ContextVariable,
        ContextVariableValue,
        GlossaryTerm,
        Guideline,
        Journey,
        Relationship,
    )

    def counted(rows: QuerySet[Any], group: str = "tag_id") -> Coalesce:
        grouped = rows.order_by().values(group).annotate(count=Count("pk")).values("count")[:1]
        return Coalesce(Subquery(grouped, output_field=IntegerField()), Value(0))

    def tagged(model: Any, owner: str) -> Coalesce:
        through = model.tags.through.objects.filter(tag_id=OuterRef("pk"))
        return counted(
            through.filter(**({f"{owner}_id": agent_id} if model is Agent else {f"{owner}__agent_id": agent_id}))
        )

    tags = tag_list(q=q).annotate(
        usage_guidelines=tagged(Guideline, "guideline"),
        usage_journeys=tagged(Journey, "journey"),
        usage_glossary=tagged(GlossaryTerm, "glossaryterm"),
        usage_variables=tagged(ContextVariable, "contextvariable"),
        usage_canned=tagged(CannedResponse, "cannedresponse"),
        usage_agent=tagged(Agent, "agent"),
        usage_values=counted(ContextVariableValue.objects.filter(tag_id=OuterRef("pk"), variable__agent_id=agent_id)),
        usage_relationships=counted(
            Relationship.objects.filter(
                Q(source_tag_id=OuterRef("pk")) | Q(target_tag_id=OuterRef("pk")), agent_id=agent_id
            ),
            group="agent_id",
        ),
        customer_count=Count("customers", distinct=True),
    )
    tags = tags.annotate(
        usage_total=F("usage_guidelines")
        + F("usage_journeys")
        + F("usage_glossary")
        + F("usage_variables")
        + F("usage_canned")
        + F("usage_agent")
        + F("usage_values")
        + F("usage_relationships")
    )
    return tags.filter(usage_total__gt=0) if used_only else tags
