"""Reads of published versions."""

from __future__ import annotations

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
