"""The graph editor's JSON endpoints: the journey as states, transitions and problems, and one write per
change (a state, a transition, the layout). They use the login session and its CSRF token (the browser has no
API key), authorize like every studio page and call the same services as the REST API and the forms.

Errors are JSON {code, message, details} with the domain error's status (422 invalid, 409 stale or conflicting,
403 not an editor, 404 not in this agent or journey), so the editor can show them beside the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from agents.permissions import Area, require_area
from behavior.forms.journeys import JourneyStateForm, JourneyTransitionForm
from behavior.models import CannedResponse, Journey, JourneyState, JourneyTransition
from behavior.selectors.journeys import (
    journey_get,
    journey_problems,
    journey_state_get,
    journey_state_list,
    journey_transition_get,
    journey_transition_list,
)
from behavior.services.journey_layout import LayoutState, layered_positions
from behavior.services.journeys import (
    journey_layout_save,
    journey_state_canned_responses_set,
    journey_state_create,
    journey_state_delete,
    journey_state_update,
    journey_transition_create,
    journey_transition_delete,
    journey_transition_update,
)
from behavior.views.access import require_editor, studio_agent
from config.errors import DomainError, PayloadTooLarge, ValidationFailed

BODY_MAX_BYTES = 256 * 1024
STATE_FIELDS = ("key", "kind", "action", "tool", "tools", "canned_responses", "initial")
TRANSITION_FIELDS = ("source", "target", "condition")

JsonView = Callable[..., JsonResponse]


def error_json(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": details}, status=status)


def graph_endpoint(view: JsonView) -> JsonView:
    """Login (401 as JSON, not a redirect), the studio's role gate, and domain errors as JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if not request.user.is_authenticated:
            return error_json(401, "unauthorized", "Your session has ended: log in again.")
        try:
            require_area(request.user, Area.STUDIO)
            return view(request, *args, **kwargs)
        except DomainError as error:
            return error_json(error.status, error.code, error.message, error.details)
        except Http404 as error:
            return error_json(404, "not_found", str(error) or "Not found.")

    return wrapper


def request_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > BODY_MAX_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {BODY_MAX_BYTES // 1024} KB.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed("The body is not JSON.", details=[{"path": "", "message": "not JSON"}]) from None
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", details=[{"path": "", "message": "not an object"}])
    return body


def form_refusal(form: Any) -> ValidationFailed:
    """A form's errors as the ValidationFailed services raise: one {path, message} per message."""
    details = [
        {"path": "" if name == "__all__" else name, "message": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
    first = details[0]
    return ValidationFailed(
        f"{first['path']}: {first['message']}" if first["path"] else first["message"], details=details
    )


def _revision(body: dict[str, Any]) -> int | None:
    revision = body.get("revision")
    if revision is None:
        return None
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise ValidationFailed(
            "revision: a positive integer", details=[{"path": "revision", "message": "a positive integer"}]
        )
    return revision


# ---- Reading


def _choices(agent: Agent) -> tuple[dict[str, int], dict[str, int]]:
    tools = dict(agent.tools.order_by("name").values_list("name", "pk"))
    canned = dict(CannedResponse.objects.filter(agent=agent).order_by("key").values_list("key", "pk"))
    return tools, canned


def state_json(state: JourneyState, agent: Agent, *, position: tuple[float, float] | None = None) -> dict[str, Any]:
    x, y = (state.layout_x, state.layout_y) if position is None else position
    return {
        "id": state.pk,
        "key": state.key,
        "kind": state.kind,
        "action": state.action,
        "tool": state.tool.name if state.tool is not None else None,
        "tools": sorted(tool.name for tool in state.tools.all()),
        "canned_responses": sorted(response.key for response in state.canned_responses.all()),
        "initial": state.initial,
        "x": x,
        "y": y,
        "placed": state.layout_x is not None and state.layout_y is not None,
        "revision": state.revision,
        "url": reverse("studio:journey-state-update", args=[agent.pk, state.journey_id, state.pk]),
        "delete_url": reverse("studio:journey-state-delete", args=[agent.pk, state.journey_id, state.pk]),
    }


def transition_json(transition: JourneyTransition, agent: Agent) -> dict[str, Any]:
    return {
        "id": transition.pk,
        "source": transition.source_id,
        "target": transition.target_id,
        "condition": transition.condition,
        "revision": transition.revision,
        "url": reverse("studio:journey-transition-update", args=[agent.pk, transition.journey_id, transition.pk]),
        "delete_url": reverse(
            "studio:journey-transition-delete", args=[agent.pk, transition.journey_id, transition.pk]
        ),
    }


def graph_json(agent: Agent, journey: Journey) -> dict[str, Any]:
    """The whole journey for the editor; states never placed get the layered layout's positions."""
    states = list(journey_state_list(journey))
    transitions = list(journey_transition_list(journey))
    auto = layered_positions(
        [LayoutState(id=state.pk, initial=state.initial, x=state.layout_x, y=state.layout_y) for state in states],
        [(transition.source_id, transition.target_id) for transition in transitions],
    )
    tools, canned = _choices(agent)
    return {
        "journey": {"id": journey.pk, "key": journey.key, "title": journey.title, "revision": journey.revision},
        "states": [state_json(state, agent, position=auto.get(state.pk)) for state in states],
        "transitions": [transition_json(transition, agent) for transition in transitions],
        "tools": list(tools),
        "canned_responses": list(canned),
        "problems": journey_problems(journey),
    }


def _journey(request: HttpRequest, agent_id: int, journey_id: int, *, edit: bool) -> tuple[Agent, Journey]:
    agent = studio_agent(request, agent_id, edit=edit)
    return agent, journey_get(journey_id, agent_id=agent.pk)


@require_GET
@graph_endpoint
def graph(request: HttpRequest, agent_id: int, journey_id: int) -> JsonResponse:
    agent, journey = _journey(request, agent_id, journey_id, edit=False)
    return JsonResponse(graph_json(agent, journey))


# ---- States


def _state_form(agent: Agent, data: dict[str, Any]) -> JourneyStateForm:
    tools, canned = _choices(agent)
    form = JourneyStateForm(
        {name: data[name] for name in STATE_FIELDS if name in data}, tools=tools, canned_responses=canned
    )
    if not form.is_valid():
        raise form_refusal(form)
    return form


def _position(body: dict[str, Any], state: JourneyState) -> list[Mapping[str, Any]]:
    if "x" in body or "y" in body:
        return [{"id": state.pk, "x": body.get("x"), "y": body.get("y")}]
    return []


@graph_endpoint
def state_create(request: HttpRequest, agent_id: int, journey_id: int) -> JsonResponse:
    agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    body = request_body(request)
    form = _state_form(agent, {"kind": "chat", "action": "", "tools": [], "canned_responses": [], **body})
    with transaction.atomic():
        state = journey_state_create(journey, data=form.service_data(), actor=actor)
        if form.canned_response_ids():
            journey_state_canned_responses_set(state, responses=form.canned_response_ids(), actor=actor)
        if positions := _position(body, state):
            journey_layout_save(journey, positions=positions)
    state = journey_state_get(journey, state.pk)
    return JsonResponse({"state": state_json(state, agent), "problems": journey_problems(journey)}, status=201)


def _state_current(state: JourneyState, agent: Agent) -> dict[str, Any]:
    current = state_json(state, agent)
    return {name: current[name] for name in STATE_FIELDS}


@graph_endpoint
def state_update(request: HttpRequest, agent_id: int, journey_id: int, state_id: int) -> JsonResponse:
    """PATCH: the fields given change, the others keep their stored values."""
    agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    state = journey_state_get(journey, state_id)
    body = request_body(request)
    form = _state_form(agent, {**_state_current(state, agent), **body})
    with transaction.atomic():
        journey_state_update(state, data=form.service_data(), actor=actor, revision=_revision(body))
        if "canned_responses" in body:
            journey_state_canned_responses_set(state, responses=form.canned_response_ids(), actor=actor)
        if positions := _position(body, state):
            journey_layout_save(journey, positions=positions)
    state = journey_state_get(journey, state.pk)
    return JsonResponse({"state": state_json(state, agent), "problems": journey_problems(journey)})


@graph_endpoint
def state_delete(request: HttpRequest, agent_id: int, journey_id: int, state_id: int) -> JsonResponse:
    _agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    state = journey_state_get(journey, state_id)
    journey_state_delete(state, actor=actor)
    return JsonResponse({"deleted": state_id, "problems": journey_problems(journey)})


# ---- Transitions


def _transition_form(journey: Journey, data: dict[str, Any]) -> JourneyTransitionForm:
    states = list(journey.states.order_by("position", "id").values_list("pk", "key"))
    form = JourneyTransitionForm(
        {name: ("" if data.get(name) is None else data[name]) for name in TRANSITION_FIELDS}, states=states
    )
    if not form.is_valid():
        raise form_refusal(form)
    return form


@graph_endpoint
def transition_create(request: HttpRequest, agent_id: int, journey_id: int) -> JsonResponse:
    agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    form = _transition_form(journey, request_body(request))
    transition = journey_transition_create(journey, data=form.service_data(), actor=actor)
    return JsonResponse(
        {"transition": transition_json(transition, agent), "problems": journey_problems(journey)}, status=201
    )


@graph_endpoint
def transition_update(request: HttpRequest, agent_id: int, journey_id: int, transition_id: int) -> JsonResponse:
    agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    transition = journey_transition_get(journey, transition_id)
    body = request_body(request)
    current = {"source": transition.source_id, "target": transition.target_id, "condition": transition.condition}
    form = _transition_form(journey, {**current, **body})
    transition = journey_transition_update(transition, data=form.service_data(), actor=actor, revision=_revision(body))
    return JsonResponse({"transition": transition_json(transition, agent), "problems": journey_problems(journey)})


@graph_endpoint
def transition_delete(request: HttpRequest, agent_id: int, journey_id: int, transition_id: int) -> JsonResponse:
    _agent, journey = _journey(request, agent_id, journey_id, edit=True)
    actor = require_editor(request)
    journey_transition_delete(journey_transition_get(journey, transition_id), actor=actor)
    return JsonResponse({"deleted": transition_id, "problems": journey_problems(journey)})


# ---- Layout


@require_POST
@graph_endpoint
def layout(request: HttpRequest, agent_id: int, journey_id: int) -> JsonResponse:
    """Where the states are drawn: {"positions": [{"id", "x", "y"}]} (not audited, no revision)."""
    _agent, journey = _journey(request, agent_id, journey_id, edit=True)
    require_editor(request)
    positions = request_body(request).get("positions")
    if not isinstance(positions, list) or not all(isinstance(item, dict) for item in positions):
        raise ValidationFailed(
            "positions: a list of {id, x, y}", details=[{"path": "positions", "message": "a list of {id, x, y}"}]
        )
    return JsonResponse({"moved": journey_layout_save(journey, positions=positions)})
