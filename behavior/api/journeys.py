"""Journeys with their states and transitions (nested under the journey), and the validation report."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import (
    JourneyIn,
    JourneyOut,
    JourneyPatch,
    JourneyReportOut,
    JourneyStateIn,
    JourneyStateOut,
    JourneyStatePatch,
    JourneyTransitionIn,
    JourneyTransitionOut,
    JourneyTransitionPatch,
    TaggedFilter,
)
from behavior.selectors import (
    journey_get,
    journey_list,
    journey_state_get,
    journey_state_list,
    journey_transition_get,
    journey_transition_list,
)
from behavior.services.journeys import (
    journey_create,
    journey_delete,
    journey_report,
    journey_state_create,
    journey_state_delete,
    journey_state_update,
    journey_transition_create,
    journey_transition_delete,
    journey_transition_update,
    journey_update,
)
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["journeys"])


@router.get("/journeys", response=responses({200: Page[JourneyOut]}))
def journeys_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(journey_list(agent_id=filters.agent, tag=filters.tag, q=filters.q), filters)


@router.post("/journeys", response=responses({201: JourneyOut}))
def journeys_create(request: HttpRequest, payload: JourneyIn) -> Any:
    """Create a journey; add its states and transitions with the nested endpoints."""
    api_require_role(request, BEHAVIOR_WRITE)
    journey = journey_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, journey_get(journey.pk))


@router.get("/journeys/{int:journey_id}", response=responses({200: JourneyOut}))
def journeys_get(request: HttpRequest, journey_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return journey_get(journey_id)


@router.patch("/journeys/{int:journey_id}", response=responses({200: JourneyOut}))
def journeys_update(request: HttpRequest, journey_id: Id, payload: JourneyPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    journey = journey_update(
        journey_get(journey_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return journey_get(journey.pk)


@router.delete("/journeys/{int:journey_id}", response=responses({204: None}))
def journeys_delete(request: HttpRequest, journey_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    journey_delete(journey_get(journey_id), actor=api_actor(request))
    return Status(204, None)


@router.get("/journeys/{int:journey_id}/validate", response=responses({200: JourneyReportOut}))
def journeys_validate(request: HttpRequest, journey_id: Id) -> Any:
    """The journey's report: errors that block publishing, warnings, and states unreachable from the start."""
    api_require_role(request, BEHAVIOR_READ)
    return journey_report(journey_get(journey_id))


# ------------------------------------------------------------------------------------------------ states


@router.get("/journeys/{int:journey_id}/states", response=responses({200: list[JourneyStateOut]}))
def states_list(request: HttpRequest, journey_id: Id) -> Any:
    """The journey's states in order (a journey has at most a few hundred)."""
    api_require_role(request, BEHAVIOR_READ)
    journey = journey_get(journey_id)
    return list(journey_state_list(journey))


@router.post("/journeys/{int:journey_id}/states", response=responses({201: JourneyStateOut}))
def states_create(request: HttpRequest, journey_id: Id, payload: JourneyStateIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    journey = journey_get(journey_id)
    state = journey_state_create(journey, data=payload.model_dump(), actor=api_actor(request))
    return Status(201, journey_state_get(journey, state.pk))


@router.get("/journeys/{int:journey_id}/states/{int:state_id}", response=responses({200: JourneyStateOut}))
def states_get(request: HttpRequest, journey_id: Id, state_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return journey_state_get(journey_get(journey_id), state_id)


@router.patch("/journeys/{int:journey_id}/states/{int:state_id}", response=responses({200: JourneyStateOut}))
def states_update(request: HttpRequest, journey_id: Id, state_id: Id, payload: JourneyStatePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    journey = journey_get(journey_id)
    state = journey_state_update(
        journey_state_get(journey, state_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return journey_state_get(journey, state.pk)


@router.delete("/journeys/{int:journey_id}/states/{int:state_id}", response=responses({204: None}))
def states_delete(request: HttpRequest, journey_id: Id, state_id: Id) -> Any:
    """Delete a state with the transitions into and out of it."""
    api_require_role(request, BEHAVIOR_WRITE)
    journey_state_delete(journey_state_get(journey_get(journey_id), state_id), actor=api_actor(request))
    return Status(204, None)


# ------------------------------------------------------------------------------------------- transitions


@router.get("/journeys/{int:journey_id}/transitions", response=responses({200: list[JourneyTransitionOut]}))
def transitions_list(request: HttpRequest, journey_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return list(journey_transition_list(journey_get(journey_id)))


@router.post("/journeys/{int:journey_id}/transitions", response=responses({201: JourneyTransitionOut}))
def transitions_create(request: HttpRequest, journey_id: Id, payload: JourneyTransitionIn) -> Any:
    """Add a transition between two states of this journey (a state of another journey is refused)."""
    api_require_role(request, BEHAVIOR_WRITE)
    return Status(
        201, journey_transition_create(journey_get(journey_id), data=payload.model_dump(), actor=api_actor(request))
    )


@router.get(
    "/journeys/{int:journey_id}/transitions/{int:transition_id}", response=responses({200: JourneyTransitionOut})
)
def transitions_get(request: HttpRequest, journey_id: Id, transition_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return journey_transition_get(journey_get(journey_id), transition_id)


@router.patch(
    "/journeys/{int:journey_id}/transitions/{int:transition_id}", response=responses({200: JourneyTransitionOut})
)
def transitions_update(
    request: HttpRequest,
    journey_id: Id,
    transition_id: Id,
    payload: JourneyTransitionPatch,  # type: ignore[valid-type]
) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    transition = journey_transition_get(journey_get(journey_id), transition_id)
    return journey_transition_update(
        transition,
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )


@router.delete("/journeys/{int:journey_id}/transitions/{int:transition_id}", response=responses({204: None}))
def transitions_delete(request: HttpRequest, journey_id: Id, transition_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    journey_transition_delete(journey_transition_get(journey_get(journey_id), transition_id), actor=api_actor(request))
    return Status(204, None)
