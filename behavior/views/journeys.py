"""The studio's journey pages: the list, a new journey, its settings, deleting it, and the journey's page with
the graph editor (static/studio/journey-graph.js) over forms for every state and transition, which are the page
without JavaScript. The URLs of states and transitions answer the editor's JSON (behavior/views/journey_graph.py)
and the plain forms' POSTs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.models import Agent
from agents.permissions import user_may_edit_behavior
from behavior.forms.journeys import JourneyForm, JourneyStateForm, JourneyTransitionForm
from behavior.models import CannedResponse, Journey, JourneyState, JourneyTransition
from behavior.selectors.journeys import (
    journey_get,
    journey_list,
    journey_problems,
    journey_state_get,
    journey_state_list,
    journey_transition_get,
    journey_transition_list,
)
from behavior.services.audit import Actor
from behavior.services.journeys import (
    journey_create,
    journey_delete,
    journey_state_canned_responses_set,
    journey_state_create,
    journey_state_delete,
    journey_state_update,
    journey_transition_create,
    journey_transition_delete,
    journey_transition_update,
    journey_update,
)
from behavior.services.lint import entity_lint
from behavior.views import journey_graph
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import call_refusal, form_call, form_status
from config.htmx import HtmxHttpRequest

JOURNEYS_PER_PAGE = 50


def prefixed_call(form: Any, call: Any) -> Any:
    """form_call for a form with a prefix (several forms on one page): a stale refusal also carries the
    current revision in the prefixed field, and `form.stale_rows` pairs each current value with the typed one."""
    result = form_call(form, call)
    stale = getattr(form, "stale", None)
    if result is None and stale:
        data = form.data.copy()
        if stale.get("revision"):
            data[form.add_prefix("revision")] = str(stale["revision"])
        form.data = data
        form.stale_rows = [
            (
                name,
                value,
                data.getlist(form.add_prefix(name))
                if name in ("tools", "canned_responses")
                else data.get(form.add_prefix(name)),
            )
            for name, value in stale.items()
            if name != "revision"
        ]
    return result


def wants_json(request: HttpRequest) -> bool:
    """The graph editor sends JSON (and PATCH/DELETE); the plain forms post form data."""
    return request.method in ("PATCH", "DELETE") or request.content_type == "application/json"


# ---- Journeys


@require_GET
@studio_view
def journey_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(journey_list(agent_id=agent.pk, q=query or None), JOURNEYS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "agent": agent,
        "family": "journeys",
        "page": page,
        "journeys": page.object_list,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
    }
    template = "studio/journeys/list.html#journey-table" if request.htmx else "studio/journeys/list.html"
    return render(request, template, context)


def _guidelines(agent: Agent) -> dict[str, int]:
    """Every guideline key of the agent (to validate triggers: keys only, no rows are built)."""
    return dict(agent.guidelines.values_list("key", "pk"))


TRIGGER_SUGGESTIONS = 200


def _trigger_suggestions(agent: Agent) -> list[str]:
    """The observations (guidelines without an action) a journey usually starts from, for the chips' datalist."""
    return list(
        agent.guidelines.filter(action__isnull=True).order_by("key").values_list("key", flat=True)[:TRIGGER_SUGGESTIONS]
    )


@require_http_methods(["GET", "POST"])
@studio_view
def journey_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = JourneyForm(request.POST or None, guidelines=_guidelines(agent))
    if request.method == "POST" and form.is_valid():
        journey = form_call(form, lambda: journey_create(agent=agent, data=form.service_data(), actor=actor))
        if journey is not None:
            messages.success(request, f"Journey {journey.key} created. Add its first state.")
            return redirect("studio:journey-detail", agent_id=agent.pk, journey_id=journey.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {
        "agent": agent,
        "family": "journeys",
        "form": form,
        "journey": None,
        "trigger_suggestions": _trigger_suggestions(agent),
    }
    return render(request, "studio/journeys/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@studio_view
def journey_update_view(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    journey = journey_get(journey_id, agent_id=agent.pk)
    initial = {name: getattr(journey, name) for name in ("key", "title", "description", "conditions", "revision")}
    initial["tags"] = [tag.name for tag in journey.tags.all()]
    initial["triggers"] = [guideline.key for guideline in journey.triggers.all()]
    form = JourneyForm(request.POST or None, initial=initial, guidelines=_guidelines(agent))
    if request.method == "POST" and form.is_valid():
        updated = form_call(
            form,
            lambda: journey_update(journey, data=form.service_data(), actor=actor, revision=form.expected_revision()),
        )
        if updated is not None:
            messages.success(request, "Journey saved.")
            return redirect("studio:journey-detail", agent_id=agent.pk, journey_id=journey.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {
        "agent": agent,
        "family": "journeys",
        "form": form,
        "journey": journey,
        "trigger_suggestions": _trigger_suggestions(agent),
    }
    return render(request, "studio/journeys/form.html", context, status=status)


@require_POST
@studio_view
def journey_delete_view(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    journey = journey_get(journey_id, agent_id=agent.pk)
    key = journey.key
    _done, refusal = call_refusal(lambda: journey_delete(journey, actor=actor))
    if refusal:
        messages.error(request, refusal)
        return redirect("studio:journey-detail", agent_id=agent.pk, journey_id=journey.pk)
    messages.success(request, f"Journey {key} deleted with its states and transitions.")
    return redirect("studio:journey-list", agent_id=agent.pk)


# ---- The journey's page


def _choices(agent: Agent) -> dict[str, Any]:
    return {
        "tools": dict(agent.tools.order_by("name").values_list("name", "pk")),
        "canned_responses": dict(CannedResponse.objects.filter(agent=agent).order_by("key").values_list("key", "pk")),
    }


def _state_initial(state: JourneyState) -> dict[str, Any]:
    return {
        "key": state.key,
        "kind": state.kind,
        "action": state.action,
        "tool": state.tool.name if state.tool is not None else "",
        "initial": state.initial,
        "tools": [tool.name for tool in state.tools.all()],
        "canned_responses": [response.key for response in state.canned_responses.all()],
        "revision": state.revision,
    }


def _state_pairs(journey: Journey) -> list[tuple[int, str]]:
    return list(journey.states.order_by("position", "id").values_list("pk", "key"))


def _detail(
    request: HtmxHttpRequest,
    agent: Agent,
    journey: Journey,
    *,
    bound: JourneyStateForm | JourneyTransitionForm | None = None,
    bound_id: Any = None,
    status: int = 200,
) -> HttpResponse:
    """The journey's page; a refused form (`bound`, for the state or transition `bound_id`, or "new") is shown
    in place with its errors."""
    choices = _choices(agent)
    pairs = _state_pairs(journey)
    states, transitions = list(journey_state_list(journey)), list(journey_transition_list(journey))

    def pick(kind: type, key: Any, make: Any) -> Any:
        return bound if isinstance(bound, kind) and bound_id == key else make()

    state_rows = [
        (
            state,
            pick(
                JourneyStateForm,
                state.pk,
                lambda state=state: JourneyStateForm(
                    initial=_state_initial(state), prefix=f"state-{state.pk}", **choices
                ),
            ),
        )
        for state in states
    ]
    transition_rows = [
        (
            transition,
            pick(
                JourneyTransitionForm,
                transition.pk,
                lambda transition=transition: JourneyTransitionForm(
                    initial={
                        "source": transition.source_id,
                        "target": transition.target_id,
                        "condition": transition.condition or "",
                        "revision": transition.revision,
                    },
                    prefix=f"transition-{transition.pk}",
                    states=pairs,
                ),
            ),
        )
        for transition in transitions
    ]
    new_state = pick(
        JourneyStateForm,
        "new",
        lambda: JourneyStateForm(
            initial={"key": f"state-{len(states) + 1}", "initial": not states}, prefix="new-state", **choices
        ),
    )
    new_transition = pick(
        JourneyTransitionForm, "new", lambda: JourneyTransitionForm(prefix="new-transition", states=pairs)
    )
    readonly = not user_may_edit_behavior(request.user)
    # A refused form post re-renders the plain forms (with its errors beside the fields), never the graph.
    graph_mode = request.method == "GET" and request.GET.get("view") != "forms"
    context = {
        "agent": agent,
        "family": "journeys",
        "journey": journey,
        "state_rows": state_rows,
        "transition_rows": transition_rows,
        "new_state_form": new_state,
        "new_transition_form": new_transition,
        "problems": journey_problems(journey),
        "findings": entity_lint(agent, entity="journey", ref=journey.key),
        "readonly": readonly,
        "graph_mode": graph_mode,
        "csrf": get_token(request),
        "state_keys": {state.pk: state.key for state in states},
        "tool_names": list(choices["tools"]),
        "canned_keys": list(choices["canned_responses"]),
    }
    template = "studio/journeys/detail.html#journey-forms" if request.htmx else "studio/journeys/detail.html"
    return render(request, template, context, status=status)


@require_GET
@studio_view
def journey_detail(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    return _detail(request, agent, journey_get(journey_id, agent_id=agent.pk))


def _back(agent: Agent, journey: Journey, anchor: str = "") -> HttpResponse:
    url = reverse("studio:journey-detail", args=[agent.pk, journey.pk]) + "?view=forms"
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _editing(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> tuple[Agent, Actor, Journey]:
    """The agent, the editor making the change and the journey of a state or transition form post."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    return agent, actor, journey_get(journey_id, agent_id=agent.pk)


def _save_and_back(
    request: HtmxHttpRequest,
    agent: Agent,
    journey: Journey,
    form: JourneyStateForm | JourneyTransitionForm,
    save: Callable[[], Any],
    *,
    bound_id: Any,
    done: str,
) -> HttpResponse:
    """Saves a valid state or transition form with `save`, says so ("State refund added.", `done` being "added" or
    "saved") and goes back to it on the forms view; an invalid or refused form re-renders the page with its errors."""
    if form.is_valid():
        saved = prefixed_call(form, save)
        if saved is not None:
            if isinstance(form, JourneyStateForm):
                what, anchor = f"State {saved.key}", f"state-{saved.pk}"
            else:
                what, anchor = f"Transition {saved}", f"transition-{saved.pk}"
            messages.success(request, f"{what} {done}.")
            return _back(agent, journey, anchor)
    return _detail(request, agent, journey, bound=form, bound_id=bound_id, status=form_status(form))


# ---- States (form posts; JSON goes to journey_graph)


@require_http_methods(["POST"])
def journey_state_create_view(request: HttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    if wants_json(request):
        return journey_graph.state_create(request, agent_id, journey_id)
    return _state_create_form(request, agent_id, journey_id)


@studio_view
def _state_create_form(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    form = JourneyStateForm(request.POST, prefix="new-state", **_choices(agent))
    return _save_and_back(
        request, agent, journey, form, lambda: _state_save(None, journey, form, actor), bound_id="new", done="added"
    )


@transaction.atomic
def _state_save(state: JourneyState | None, journey: Journey, form: JourneyStateForm, actor: Any) -> JourneyState:
    if state is None:
        state = journey_state_create(journey, data=form.service_data(), actor=actor)
    else:
        state = journey_state_update(state, data=form.service_data(), actor=actor, revision=form.expected_revision())
    journey_state_canned_responses_set(state, responses=form.canned_response_ids(), actor=actor)
    return state


@require_http_methods(["POST", "PATCH"])
def journey_state_update_view(request: HttpRequest, agent_id: int, journey_id: int, state_id: int) -> HttpResponse:
    if wants_json(request):
        if request.method != "PATCH":
            return HttpResponseNotAllowed(["PATCH"])
        return journey_graph.state_update(request, agent_id, journey_id, state_id)
    return _state_update_form(request, agent_id, journey_id, state_id)


@studio_view
def _state_update_form(request: HtmxHttpRequest, agent_id: int, journey_id: int, state_id: int) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    state = journey_state_get(journey, state_id)
    form = JourneyStateForm(request.POST, prefix=f"state-{state.pk}", **_choices(agent))
    return _save_and_back(
        request, agent, journey, form, lambda: _state_save(state, journey, form, actor), bound_id=state.pk, done="saved"
    )


@require_http_methods(["POST", "DELETE"])
def journey_state_delete_view(request: HttpRequest, agent_id: int, journey_id: int, state_id: int) -> HttpResponse:
    if request.method == "DELETE":
        return journey_graph.state_delete(request, agent_id, journey_id, state_id)
    return _state_delete_form(request, agent_id, journey_id, state_id)


@studio_view
def _state_delete_form(request: HtmxHttpRequest, agent_id: int, journey_id: int, state_id: int) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    state = journey_state_get(journey, state_id)
    key = state.key
    journey_state_delete(state, actor=actor)
    messages.success(request, f"State {key} deleted with its transitions.")
    return _back(agent, journey, "journey-states")


# ---- Transitions


@require_http_methods(["POST"])
def journey_transition_create_view(request: HttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    if wants_json(request):
        return journey_graph.transition_create(request, agent_id, journey_id)
    return _transition_create_form(request, agent_id, journey_id)


@studio_view
def _transition_create_form(request: HtmxHttpRequest, agent_id: int, journey_id: int) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    form = JourneyTransitionForm(request.POST, prefix="new-transition", states=_state_pairs(journey))
    return _save_and_back(
        request,
        agent,
        journey,
        form,
        lambda: journey_transition_create(journey, data=form.service_data(), actor=actor),
        bound_id="new",
        done="added",
    )


@require_http_methods(["POST", "PATCH"])
def journey_transition_update_view(
    request: HttpRequest, agent_id: int, journey_id: int, transition_id: int
) -> HttpResponse:
    if wants_json(request):
        if request.method != "PATCH":
            return HttpResponseNotAllowed(["PATCH"])
        return journey_graph.transition_update(request, agent_id, journey_id, transition_id)
    return _transition_update_form(request, agent_id, journey_id, transition_id)


@studio_view
def _transition_update_form(
    request: HtmxHttpRequest, agent_id: int, journey_id: int, transition_id: int
) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    transition: JourneyTransition = journey_transition_get(journey, transition_id)
    form = JourneyTransitionForm(request.POST, prefix=f"transition-{transition.pk}", states=_state_pairs(journey))
    return _save_and_back(
        request,
        agent,
        journey,
        form,
        lambda: journey_transition_update(
            transition, data=form.service_data(), actor=actor, revision=form.expected_revision()
        ),
        bound_id=transition.pk,
        done="saved",
    )


@require_http_methods(["POST", "DELETE"])
def journey_transition_delete_view(
    request: HttpRequest, agent_id: int, journey_id: int, transition_id: int
) -> HttpResponse:
    if request.method == "DELETE":
        return journey_graph.transition_delete(request, agent_id, journey_id, transition_id)
    return _transition_delete_form(request, agent_id, journey_id, transition_id)


@studio_view
def _transition_delete_form(
    request: HtmxHttpRequest, agent_id: int, journey_id: int, transition_id: int
) -> HttpResponse:
    agent, actor, journey = _editing(request, agent_id, journey_id)
    transition = journey_transition_get(journey, transition_id)
    name = str(transition)
    journey_transition_delete(transition, actor=actor)
    messages.success(request, f"Transition {name} deleted.")
    return _back(agent, journey, "journey-transitions")
