"""Reads for the studio's agent pages: the agent list with counts, one agent's behavior counts, and what its
draft changes against the published version (cached per draft revision)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from agents.models import Agent, Tool
from behavior.models import (
    AuditEntry,
    CannedResponse,
    ContextVariable,
    GlossaryTerm,
    Guideline,
    Journey,
    Relationship,
)

DRAFT_CHANGES_CACHE_SECONDS = 24 * 3600


def _count_of(model: Any) -> Coalesce:
    rows = model.objects.filter(agent=OuterRef("pk")).order_by().values("agent").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def agent_list_with_counts(*, q: str | None = None) -> QuerySet[Agent]:
    """Agents by name with how many guidelines and journeys each has (two subqueries, whatever the size)."""
    agents = Agent.objects.select_related("published_version")
    if q:
        agents = agents.filter(name__icontains=q)
    return agents.annotate(guideline_count=_count_of(Guideline), journey_count=_count_of(Journey)).order_by(
        "name", "id"
    )


def agent_behavior_counts(agent: Agent) -> dict[str, int]:
    """How many of each entity the agent's draft holds."""
    guidelines = Guideline.objects.filter(agent=agent)
    return {
        "guidelines": guidelines.count(),
        "observations": guidelines.filter(action__isnull=True).count() + guidelines.filter(action="").count(),
        "disabled": guidelines.filter(enabled=False).count(),
        "relationships": Relationship.objects.filter(agent=agent).count(),
        "journeys": Journey.objects.filter(agent=agent).count(),
        "glossary": GlossaryTerm.objects.filter(agent=agent).count(),
        "canned_responses": CannedResponse.objects.filter(agent=agent).count(),
        "variables": ContextVariable.objects.filter(agent=agent).count(),
        "tools": Tool.objects.filter(agent=agent).count(),
    }


def agent_draft_changes(agent: Agent) -> dict[str, Any]:
    """What publishing would change: {"count": entities added, changed or removed, "diff": version_diff(...)}
    between the published version (or nothing) and the draft. Cached per draft revision and published version."""
    from behavior.services.diffing import version_diff
    from behavior.services.exporting import agent_export_document

    fresh = dict(Agent.objects.filter(pk=agent.pk).values("draft_revision", "published_version_id").first() or {})
    key = f"draft-changes:{agent.pk}:{fresh.get('draft_revision')}:{fresh.get('published_version_id')}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    published = agent.published_version.document if agent.published_version is not None else {}
    diff = version_diff(published, agent_export_document(agent))
    count = sum(len(kind["added"]) + len(kind["removed"]) + len(kind["changed"]) for kind in diff)
    result = {"count": count, "diff": diff}
    cache.set(key, result, DRAFT_CHANGES_CACHE_SECONDS)
    return result


def agent_recent_changes(agent: Agent, *, limit: int = 8) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(agent=agent).select_related("user")[:limit])
