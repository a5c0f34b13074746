"""The graph editor's JSON endpoints: the graph with its problems and layout, and one write per change, all
through the login session with its CSRF token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from behavior.models import AuditEntry, CannedResponse, Journey, JourneyState, JourneyTransition
from tests.factories import make_journey, make_tool
from tests.support.studio import HOSTILE_TEXTS


@pytest.fixture
def journey(agent: Any) -> Journey:
    return make_journey(agent, "refund", states=("ask", "check", "done"), title="Refund a ticket")


def url(name: str, journey: Journey, *ids: int) -> str:
    return reverse(f"studio:{name}", args=[journey.agent_id, journey.pk, *ids])


def send(client: Client, method: str, address: str, payload: Any = None) -> Any:
    call = getattr(client, method.lower())
    return call(address, data=json.dumps(payload if payload is not None else {}), content_type="application/json")


def state_of(journey: Journey, key: str) -> JourneyState:
    return journey.states.get(key=key)


# ---- Reading


def test_the_graph_holds_states_transitions_choices_and_problems(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    make_tool(agent, "lookup_order")
    CannedResponse.objects.create(agent=agent, key="greeting", template="Hello")
    data = editor_client.get(url("journey-graph", journey)).json()
    assert data["journey"] == {
        "id": journey.pk,
        "key": "refund",
        "title": "Refund a ticket",
        "revision": journey.revision,
    }
    assert [state["key"] for state in data["states"]] == ["ask", "check", "done"]
    ask = data["states"][0]
    assert ask["initial"] and ask["kind"] == "chat" and ask["tools"] == [] and ask["canned_responses"] == []
    assert ask["url"] == url("journey-state-update", journey, ask["id"])
    assert {(t["source"], t["target"]) for t in data["transitions"]} == {
        (data["states"][0]["id"], data["states"][1]["id"]),
        (data["states"][1]["id"], data["states"][2]["id"]),
    }
    assert data["tools"] == ["lookup_order"] and data["canned_responses"] == ["greeting"]
    # "done" is a chat state without a way out: a dead end.
    assert data["problems"]["dead_ends"] == [data["states"][2]["id"]]
    assert data["problems"]["no_initial"] is False and data["problems"]["unreachable"] == []


def test_an_imported_journey_without_positions_gets_a_layered_layout(editor_client: Client, journey: Journey) -> None:
    states = editor_client.get(url("journey-graph", journey)).json()["states"]
    xs = [state["x"] for state in states]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert not any(state["placed"] for state in states)


def test_the_graph_marks_unreachable_states_and_a_missing_initial_state(editor_client: Client, agent: Any) -> None:
    journey = make_journey(agent, "loose", states=("a", "b", {"key": "c", "kind": "end"}), transitions=[("a", "c")])
    data = editor_client.get(url("journey-graph", journey)).json()
    b = state_of(journey, "b")
    assert data["problems"]["unreachable"] == [b.pk]
    JourneyState.objects.filter(journey=journey).update(initial=False)
    data = editor_client.get(url("journey-graph", journey)).json()
    assert data["problems"]["no_initial"] is True
    assert any("no initial state" in error for error in data["problems"]["errors"])


# ---- Who may do what


def test_an_anonymous_visitor_gets_401_as_json(client: Client, journey: Journey) -> None:
    response = client.get(url("journey-graph", journey))
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_an_outsider_gets_403_as_json(outsider_client: Client, journey: Journey) -> None:
    response = outsider_client.get(url("journey-graph", journey))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_tester_reads_the_graph_but_every_write_is_403(tester_client: Client, journey: Journey) -> None:
    assert tester_client.get(url("journey-graph", journey)).status_code == 200
    ask = state_of(journey, "ask")
    transition = journey.transitions.first()
    writes = [
        ("POST", url("journey-state-create", journey), {"key": "x", "kind": "fork"}),
        ("PATCH", url("journey-state-update", journey, ask.pk), {"action": "Changed"}),
        ("DELETE", url("journey-state-delete", journey, ask.pk), None),
        ("POST", url("journey-transition-create", journey), {"source": ask.pk, "target": ask.pk}),
        ("PATCH", url("journey-transition-update", journey, transition.pk), {"condition": "x"}),
        ("DELETE", url("journey-transition-delete", journey, transition.pk), None),
        ("POST", url("journey-layout", journey), {"positions": [{"id": ask.pk, "x": 1, "y": 2}]}),
    ]
    for method, address, payload in writes:
        response = send(tester_client, method, address, payload)
        assert response.status_code == 403, (method, address)
        assert response.json()["code"] == "forbidden"
    ask.refresh_from_db()
    assert ask.action == "Do ask" and ask.layout_x is None and journey.states.count() == 3


def test_writes_without_the_csrf_token_are_refused(editor_user: Any, journey: Journey) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_user)
    ask = state_of(journey, "ask")
    response = send(client, "PATCH", url("journey-state-update", journey, ask.pk), {"action": "No token"})
    assert response.status_code == 403
    client.get(url("journey-graph", journey))  # any page sets the cookie
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    if token is None:
        client.get(reverse("studio:journey-detail", args=[journey.agent_id, journey.pk]))
        token = client.cookies["csrftoken"].value
    response = client.patch(
        url("journey-state-update", journey, ask.pk),
        data=json.dumps({"action": "With token"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    ask.refresh_from_db()
    assert ask.action == "With token"


def test_another_agents_journey_and_another_journeys_state_are_404(
    editor_client: Client, journey: Journey, agent: Any, other_agent: Any
) -> None:
    foreign = make_journey(other_agent, "foreign")
    response = editor_client.get(reverse("studio:journey-graph", args=[agent.pk, foreign.pk]))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    sibling_state = make_journey(agent, "sibling").states.first()
    response = send(editor_client, "PATCH", url("journey-state-update", journey, sibling_state.pk), {"action": "x"})
    assert response.status_code == 404
    response = send(editor_client, "DELETE", url("journey-state-delete", journey, sibling_state.pk))
    assert response.status_code == 404
    assert JourneyState.objects.filter(pk=sibling_state.pk).exists()


# ---- States


def test_an_editor_adds_a_state_at_a_position(editor_client: Client, journey: Journey) -> None:
    response = send(
        editor_client,
        "POST",
        url("journey-state-create", journey),
        {"key": "refund-it", "kind": "chat", "action": "Refund", "x": 420, "y": 80},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["state"]["key"] == "refund-it" and (data["state"]["x"], data["state"]["y"]) == (420, 80)
    state = journey.states.get(key="refund-it")
    assert (state.layout_x, state.layout_y) == (420.0, 80.0)
    assert state.pk in data["problems"]["unreachable"]
    assert AuditEntry.objects.filter(entity_type="journey_state", entity_id=state.pk).exists()


def test_an_invalid_state_answers_422_with_the_field(editor_client: Client, journey: Journey) -> None:
    response = send(
        editor_client, "POST", url("journey-state-create", journey), {"key": "Bad Key", "kind": "chat", "action": ""}
    )
    assert response.status_code == 422
    paths = {detail["path"] for detail in response.json()["details"]}
    assert {"key", "action"} <= paths
    response = send(editor_client, "POST", url("journey-state-create", journey), {"key": "ask", "kind": "fork"})
    assert response.status_code == 409  # a state of this journey already has that key


def test_an_editor_patches_one_field_of_a_state(editor_client: Client, journey: Journey, agent: Any) -> None:
    make_tool(agent, "lookup_order")
    CannedResponse.objects.create(agent=agent, key="greeting", template="Hello")
    check = state_of(journey, "check")
    response = send(
        editor_client,
        "PATCH",
        url("journey-state-update", journey, check.pk),
        {"revision": check.revision, "action": "Check it", "tools": ["lookup_order"], "canned_responses": ["greeting"]},
    )
    assert response.status_code == 200
    data = response.json()["state"]
    assert (
        data["action"] == "Check it" and data["tools"] == ["lookup_order"] and data["canned_responses"] == ["greeting"]
    )
    assert data["revision"] == check.revision + 1 and data["key"] == "check"


def test_marking_a_state_initial_demotes_the_previous_one(editor_client: Client, journey: Journey) -> None:
    check = state_of(journey, "check")
    response = send(editor_client, "PATCH", url("journey-state-update", journey, check.pk), {"initial": True})
    assert response.status_code == 200
    assert list(journey.states.filter(initial=True).values_list("key", flat=True)) == ["check"]
    assert state_of(journey, "ask").pk in response.json()["problems"]["unreachable"]


def test_a_stale_revision_is_409_with_the_current_values(editor_client: Client, journey: Journey) -> None:
    check = state_of(journey, "check")
    JourneyState.objects.filter(pk=check.pk).update(action="Theirs", revision=check.revision + 1)
    response = send(
        editor_client,
        "PATCH",
        url("journey-state-update", journey, check.pk),
        {"revision": check.revision, "action": "Mine"},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_revision" and body["message"]
    check.refresh_from_db()
    assert check.action == "Theirs"


def test_a_tool_state_needs_a_tool_of_this_agent(editor_client: Client, journey: Journey, other_agent: Any) -> None:
    make_tool(other_agent, "foreign_tool")
    check = state_of(journey, "check")
    response = send(
        editor_client, "PATCH", url("journey-state-update", journey, check.pk), {"kind": "tool", "tool": "foreign_tool"}
    )
    assert response.status_code == 422
    assert [detail["path"] for detail in response.json()["details"]] == ["tool"]


def test_an_editor_deletes_a_state_with_its_transitions(editor_client: Client, journey: Journey) -> None:
    check = state_of(journey, "check")
    response = send(editor_client, "DELETE", url("journey-state-delete", journey, check.pk))
    assert response.status_code == 200 and response.json()["deleted"] == check.pk
    assert not journey.transitions.exists()


def test_a_body_that_is_not_a_json_object_is_422(editor_client: Client, journey: Journey) -> None:
    response = editor_client.post(url("journey-state-create", journey), data="[1, 2]", content_type="application/json")
    assert response.status_code == 422
    response = editor_client.post(url("journey-state-create", journey), data="{nope", content_type="application/json")
    assert response.status_code == 422


# ---- Transitions


def test_an_editor_connects_two_states(editor_client: Client, journey: Journey) -> None:
    ask, done = state_of(journey, "ask"), state_of(journey, "done")
    response = send(
        editor_client,
        "POST",
        url("journey-transition-create", journey),
        {"source": ask.pk, "target": done.pk, "condition": None},
    )
    assert response.status_code == 201
    data = response.json()["transition"]
    assert (data["source"], data["target"], data["condition"]) == (ask.pk, done.pk, None)
    assert JourneyTransition.objects.filter(pk=data["id"], journey=journey).exists()


def test_a_transition_to_a_state_of_another_journey_cannot_be_made(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    other_state = make_journey(agent, "other").states.first()
    ask = state_of(journey, "ask")
    response = send(
        editor_client, "POST", url("journey-transition-create", journey), {"source": ask.pk, "target": other_state.pk}
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == "target"
    transition = journey.transitions.first()
    response = send(
        editor_client, "PATCH", url("journey-transition-update", journey, transition.pk), {"target": other_state.pk}
    )
    assert response.status_code == 422
    transition.refresh_from_db()
    assert transition.target.journey_id == journey.pk


def test_an_end_state_has_no_way_out(editor_client: Client, agent: Any) -> None:
    journey = make_journey(agent, "ends", states=("a", {"key": "z", "kind": "end"}))
    a, z = state_of(journey, "a"), state_of(journey, "z")
    response = send(editor_client, "POST", url("journey-transition-create", journey), {"source": z.pk, "target": a.pk})
    assert response.status_code == 422


def test_an_editor_changes_a_transitions_condition_and_deletes_it(editor_client: Client, journey: Journey) -> None:
    transition = journey.transitions.first()
    response = send(
        editor_client,
        "PATCH",
        url("journey-transition-update", journey, transition.pk),
        {"revision": transition.revision, "condition": "The order exists"},
    )
    assert response.status_code == 200 and response.json()["transition"]["condition"] == "The order exists"
    response = send(
        editor_client,
        "PATCH",
        url("journey-transition-update", journey, transition.pk),
        {"revision": transition.revision, "condition": "Stale"},
    )
    assert response.status_code == 409
    response = send(editor_client, "DELETE", url("journey-transition-delete", journey, transition.pk))
    assert response.status_code == 200
    assert not JourneyTransition.objects.filter(pk=transition.pk).exists()


# ---- Layout


def test_the_layout_is_saved_without_an_audit_entry_or_a_new_revision(editor_client: Client, journey: Journey) -> None:
    ask = state_of(journey, "ask")
    entries = AuditEntry.objects.count()
    response = send(
        editor_client, "POST", url("journey-layout", journey), {"positions": [{"id": ask.pk, "x": 12.5, "y": -40}]}
    )
    assert response.status_code == 200 and response.json()["moved"] == 1
    ask_after = state_of(journey, "ask")
    assert (ask_after.layout_x, ask_after.layout_y) == (12.5, -40.0) and ask_after.revision == ask.revision
    assert AuditEntry.objects.count() == entries
    data = editor_client.get(url("journey-graph", journey)).json()
    assert (data["states"][0]["x"], data["states"][0]["y"], data["states"][0]["placed"]) == (12.5, -40.0, True)


def test_the_layout_refuses_states_of_another_journey_and_bad_numbers(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    other_state = make_journey(agent, "other").states.first()
    response = send(
        editor_client, "POST", url("journey-layout", journey), {"positions": [{"id": other_state.pk, "x": 1, "y": 1}]}
    )
    assert response.status_code == 422
    response = send(
        editor_client,
        "POST",
        url("journey-layout", journey),
        {"positions": [{"id": state_of(journey, "ask").pk, "x": "1", "y": 1}]},
    )
    assert response.status_code == 422
    response = send(editor_client, "POST", url("journey-layout", journey), {"positions": "nope"})
    assert response.status_code == 422
    other_state.refresh_from_db()
    assert other_state.layout_x is None


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_texts_travel_as_plain_json_strings(editor_client: Client, agent: Any, hostile: str) -> None:
    journey = make_journey(
        agent, "hostile", title=hostile, states=({"key": "a", "action": hostile}, "b"), transitions=[]
    )
    a, b = state_of(journey, "a"), state_of(journey, "b")
    JourneyTransition.objects.create(journey=journey, source=a, target=b, condition=hostile)
    response = editor_client.get(url("journey-graph", journey))
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["journey"]["title"] == hostile and data["states"][0]["action"] == hostile
    assert data["transitions"][0]["condition"] == hostile


def test_the_editor_script_never_puts_data_into_markup() -> None:
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static/studio/journey-graph.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
