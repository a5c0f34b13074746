"""Reads of guidelines and observations: the filtered, sorted list (API and studio) and one guideline."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from behavior.models import Guideline
from behavior.services.rows import row_get

# Sort choices the list accepts: name -> order_by fields (the id last, so pages are stable).
GUIDELINE_SORTS: dict[str, tuple[str, ...]] = {
    "key": ("key", "id"),
    "-key": ("-key", "-id"),
    "priority": ("priority", "key", "id"),
    "-priority": ("-priority", "key", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "criticality": ("criticality", "key", "id"),
    "title": ("title", "key", "id"),
    "-title": ("-title", "key", "id"),
}

OBSERVATION = Q(action__isnull=True) | Q(action="")


def guideline_list(
    *,
    agent_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
    enabled: bool | None = None,
    criticality: str | None = None,
    observation: bool | None = None,
    has_tools: bool | None = None,
    journey: str | None = None,
    sort: str = "key",
) -> QuerySet[Guideline]:
    """Guidelines matching every filter given: text `q` in key, title, condition or action; a tag name;
    enabled; criticality; observations only (True) or only guidelines with an action (False); with or without
    tools; scoped to journey key `journey` (tag `journey:<key>`). Tags and tools are prefetched."""
    guidelines = Guideline.objects.all()
    if agent_id is not None:
        guidelines = guidelines.filter(agent_id=agent_id)
    if q:
        guidelines = guidelines.filter(
            Q(key__icontains=q) | Q(title__icontains=q) | Q(condition__icontains=q) | Q(action__icontains=q)
        )
    if tag:
        guidelines = guidelines.filter(
            Exists(Guideline.tags.through.objects.filter(guideline=OuterRef("pk"), tag__name=tag))
        )
    if journey:
        scope = f"journey:{journey}"
        guidelines = guidelines.filter(
            Exists(Guideline.tags.through.objects.filter(guideline=OuterRef("pk"), tag__name=scope))
        )
    if enabled is not None:
        guidelines = guidelines.filter(enabled=enabled)
    if criticality:
        guidelines = guidelines.filter(criticality=criticality)
    if observation is not None:
        guidelines = guidelines.filter(OBSERVATION) if observation else guidelines.exclude(OBSERVATION)
    if has_tools is not None:
        with_tools = Exists(Guideline.tools.through.objects.filter(guideline=OuterRef("pk")))
        guidelines = guidelines.filter(with_tools) if has_tools else guidelines.exclude(with_tools)
    order = GUIDELINE_SORTS.get(sort, GUIDELINE_SORTS["key"])
    if agent_id is None:
        order = ("agent_id", *order)
    return guidelines.prefetch_related("tags", "tools").order_by(*order)


def guideline_filter_choices(*, agent_id: int) -> dict[str, list[str]]:
    """What the studio's list filters offer: the tag names on the agent's guidelines and its journey keys
    (two queries, whatever the number of guidelines)."""
    from behavior.models import Journey, Tag

    tags = Tag.objects.filter(guidelines__agent_id=agent_id).distinct().order_by("name").values_list("name", flat=True)
    journeys = Journey.objects.filter(agent_id=agent_id).order_by("key").values_list("key", flat=True)
    return {"tags": list(tags[:500]), "journeys": list(journeys[:500])}


def guideline_get(guideline_id: int, *, agent_id: int | None = None) -> Guideline:
    """One guideline with its tags and tools; NotFound when missing (or of another agent, when given)."""
    guidelines = Guideline.objects.prefetch_related("tags", "tools")
    if agent_id is not None:
        guidelines = guidelines.filter(agent_id=agent_id)
    return row_get(guidelines, guideline_id, what="guideline")
