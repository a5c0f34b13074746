"""Reads of published versions."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from agents.models import Agent
from behavior.models import BehaviorVersion
from config.errors import NotFound


def version_list(agent: Agent) -> QuerySet[BehaviorVersion]:
    """The agent's versions, newest first."""
    return BehaviorVersion.objects.filter(agent=agent).select_related("author", "agent").order_by("-number")


def version_get(agent: Agent, number: int) -> BehaviorVersion:
    """One version of the agent by number; NotFound when it does not exist."""
    version = BehaviorVersion.objects.filter(agent=agent, number=number).select_related("author", "agent").first()
    if version is None:
        raise NotFound(f"Agent {agent.name!r} has no version {number}.")
    return version


# The sections of a behavior document counted in the version history.
COUNTED_SECTIONS = ("guidelines", "journeys", "glossary", "canned_responses", "context_variables", "tools")
VERSION_CHANGES_CACHE_SECONDS = 30 * 24 * 3600


def version_counts(document: dict[str, Any]) -> dict[str, int]:
    """How many entities of each counted section a document holds."""
    return {section: len(document.get(section) or []) for section in COUNTED_SECTIONS}


def version_changes_count(version: BehaviorVersion, previous: BehaviorVersion | None) -> int:
    """How many entities `version` added, changed or removed against `previous` (or against nothing). Cached:
    versions are immutable."""
    from behavior.services.diffing import version_diff
    from behavior.services.text_diff import diff_count

    key = f"version-changes:{version.pk}:{previous.pk if previous is not None else 0}"
    cached = cache.get(key)
    if cached is None:
        cached = diff_count(version_diff(previous.document if previous is not None else {}, version.document))
        cache.set(key, cached, VERSION_CHANGES_CACHE_SECONDS)
    return int(cached)


def version_summaries(agent: Agent, versions: list[BehaviorVersion]) -> list[dict[str, Any]]:
    """History rows for versions of one agent (newest first, with their documents loaded): the version, its
    entity counts and how many entities it changed against the version before it."""
    numbers = [version.number for version in versions]
    before = (
        BehaviorVersion.objects.filter(agent=agent, number__lt=min(numbers)).order_by("-number").first()
        if numbers
        else None
    )
    rows = []
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else before
        rows.append(
            {
                "version": version,
                "counts": version_counts(version.document),
                "changes": version_changes_count(version, previous),
                "previous": previous,
            }
        )
    return rows
