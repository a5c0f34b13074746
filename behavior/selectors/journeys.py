"""Reads of journeys, their states and their transitions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from behavior.models import Journey, JourneyState, JourneyTransition, StateKind
from behavior.services.journeys import journey_report
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


def journey_problems(journey: Journey) -> dict[str, Any]:
    """What the graph editor marks on the graph: no initial state, states the initial state cannot reach, dead
    ends (states other than end states with no way out), and the validation report's errors and warnings."""
    states = list(journey.states.values_list("pk", "key", "kind", "initial"))
    sources = set(journey.transitions.values_list("source_id", flat=True))
    report = journey_report(journey)
    unreachable_keys = set(report["unreachable_states"])
    return {
        "no_initial": not any(initial for _pk, _key, _kind, initial in states),
        "unreachable": [pk for pk, key, _kind, _initial in states if key in unreachable_keys],
        "dead_ends": [pk for pk, _key, kind, _initial in states if kind != StateKind.END and pk not in sources],
        "errors": report["errors"],
        "warnings": report["warnings"],
    }
