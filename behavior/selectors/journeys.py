"""Reads of journeys, their states and their transitions."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from behavior.models import Journey, JourneyState, JourneyTransition
from behavior.services.rows import row_get


def journey_list(*, agent_id: int | None = None, tag: str | None = None, q: str | None = None) -> QuerySet[Journey]:
    journeys = Journey.objects.prefetch_related("tags", "triggers", "states__tools", "transitions")
    if agent_id is not None:
        journeys = journeys.filter(agent_id=agent_id)
    if tag:
        journeys = journeys.filter(tags__name=tag)
    if q:
        journeys = journeys.filter(Q(key__icontains=q) | Q(title__icontains=q))
    return journeys.order_by("agent_id", "key", "id")


def journey_get(journey_id: int, *, agent_id: int | None = None) -> Journey:
    return row_get(journey_list(agent_id=agent_id), journey_id, what="journey")


def journey_state_list(journey: Journey) -> QuerySet[JourneyState]:
    """The journey's states in order (a journey has at most a few hundred)."""
    return (
        JourneyState.objects.filter(journey=journey)
        .select_related("journey", "tool")
        .prefetch_related("tools", "canned_responses")
        .order_by("position", "id")
    )


def journey_state_get(journey: Journey, state_id: int) -> JourneyState:
    """A state of this journey; a state of another journey is NotFound, like a missing one."""
    return row_get(journey_state_list(journey), state_id, what=f"state in journey {journey.pk}")


def journey_transition_list(journey: Journey) -> QuerySet[JourneyTransition]:
    return (
        JourneyTransition.objects.filter(journey=journey).select_related("journey", "source", "target").order_by("id")
    )


def journey_transition_get(journey: Journey, transition_id: int) -> JourneyTransition:
    return row_get(journey_transition_list(journey), transition_id, what=f"transition in journey {journey.pk}")
