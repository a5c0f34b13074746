"""The journeys endpoints: journeys, their states and transitions (nested), and the validation report."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from behavior.models import Journey, JourneyState, JourneyTransition
from tests.api_helpers import api_client, assert_error
from tests.factories import make_guideline, make_journey, make_tag, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


@pytest.fixture
def journey(agent: Agent) -> Journey:
    return make_journey(agent, "refund", states=("ask", "confirm", "done"))


def _state(journey: Journey, key: str) -> JourneyState:
    return journey.states.get(key=key)


def test_it_builds_a_journey_with_states_and_transitions(editor: Any, agent: Agent) -> None:
    trigger = make_guideline(agent, "wants-rebooking", action=None)
    journey = editor.post(
        "/journeys",
        {
            "agent": agent.pk,
            "key": "rebooking",
            "title": "Rebook a flight",
            "triggers": [trigger.pk],
            "conditions": ["Wants a new date"],
        },
    ).json()
    base = f"/journeys/{journey['id']}"
    ask = editor.post(
        f"{base}/states", {"key": "ask", "action": "Ask for the booking reference", "initial": True}
    ).json()
    lookup_tool = make_tool(agent, "lookup_booking")
    lookup = editor.post(f"{base}/states", {"key": "lookup", "kind": "tool", "tool": lookup_tool.pk}).json()
    done = editor.post(f"{base}/states", {"key": "done", "kind": "end"}).json()
    first = editor.post(
        f"{base}/transitions", {"source": ask["id"], "target": lookup["id"], "condition": "Gave a reference"}
    )
    second = editor.post(f"{base}/transitions", {"source": lookup["id"], "target": done["id"]})

    assert (first.status_code, second.status_code) == (201, 201)
    assert [state["position"] for state in (ask, lookup, done)] == [0, 1, 2]
    detail = editor.get(base).json()
    assert detail["triggers"] == [trigger.pk]
    assert [state["key"] for state in detail["states"]] == ["ask", "lookup", "done"]
    assert [(item["source"], item["target"], item["condition"]) for item in detail["transitions"]] == [
        (ask["id"], lookup["id"], "Gave a reference"),
        (lookup["id"], done["id"], None),
    ]
    assert editor.get(f"{base}/validate").json() == {"ok": True, "errors": [], "warnings": [], "unreachable_states": []}


def test_marking_a_state_initial_demotes_the_previous_one(editor: Any, journey: Journey) -> None:
    confirm = _state(journey, "confirm")

    response = editor.patch(f"/journeys/{journey.pk}/states/{confirm.pk}", {"initial": True})

    assert response.status_code == 200
    assert list(journey.states.filter(initial=True).values_list("key", flat=True)) == ["confirm"]


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"key": "talk"}, "action"),
        ({"key": "talk", "action": "   "}, "action"),
        ({"key": "run", "kind": "tool"}, "tool"),
        ({"key": "talk", "action": "Talk", "tool": None, "kind": "fork", "tools": [424242]}, "tools[0]"),
        ({"key": "bye", "kind": "end", "initial": True}, "initial"),
        ({"key": "Bad Key", "action": "x"}, "key"),
        ({"key": "talk", "kind": "wander", "action": "x"}, "kind"),
    ],
)
def test_it_refuses_an_invalid_state_with_its_path(
    editor: Any, journey: Journey, payload: dict[str, Any], path: str
) -> None:
    before = journey.states.count()
    body = assert_error(editor.post(f"/journeys/{journey.pk}/states", payload), 422, "validation_failed")
    assert body["details"][0]["path"] == path
    assert journey.states.count() == before


def test_a_tool_state_with_a_tool_of_another_agent_is_refused(
    editor: Any, journey: Journey, other_agent: Agent
) -> None:
    foreign = make_tool(other_agent, "foreign")
    body = assert_error(
        editor.post(f"/journeys/{journey.pk}/states", {"key": "run", "kind": "tool", "tool": foreign.pk}), 422
    )
    assert body["details"][0]["path"] == "tool"


def test_a_duplicate_state_key_is_a_409(editor: Any, journey: Journey) -> None:
    assert_error(editor.post(f"/journeys/{journey.pk}/states", {"key": "ask", "action": "Again"}), 409, "conflict")


def test_a_transition_to_a_state_of_another_journey_is_refused(editor: Any, agent: Agent, journey: Journey) -> None:
    other = make_journey(agent, "other", states=("elsewhere",))
    foreign = _state(other, "elsewhere")

    body = assert_error(
        editor.post(f"/journeys/{journey.pk}/transitions", {"source": _state(journey, "ask").pk, "target": foreign.pk}),
        422,
    )

    assert body["details"][0]["path"] == "target"
    assert not JourneyTransition.objects.filter(target=foreign).exists()


def test_nested_ids_of_another_journey_are_404(editor: Any, agent: Agent, journey: Journey) -> None:
    other = make_journey(agent, "other", states=("a", "b"))
    foreign_state = _state(other, "a")
    foreign_transition = other.transitions.get()

    assert_error(editor.get(f"/journeys/{journey.pk}/states/{foreign_state.pk}"), 404, "not_found")
    assert_error(editor.patch(f"/journeys/{journey.pk}/states/{foreign_state.pk}", {"action": "x"}), 404)
    assert_error(editor.delete(f"/journeys/{journey.pk}/transitions/{foreign_transition.pk}"), 404)
    assert JourneyTransition.objects.filter(pk=foreign_transition.pk).exists()
    assert _state(other, "a").action == "Do a"


def test_a_duplicate_transition_is_a_409_and_an_end_state_has_no_way_out(editor: Any, journey: Journey) -> None:
    ask, confirm, done = (_state(journey, key) for key in ("ask", "confirm", "done"))
    assert_error(editor.post(f"/journeys/{journey.pk}/transitions", {"source": ask.pk, "target": confirm.pk}), 409)
    conditional = editor.post(
        f"/journeys/{journey.pk}/transitions", {"source": ask.pk, "target": confirm.pk, "condition": "Confirmed early"}
    )
    assert conditional.status_code == 201

    assert editor.patch(f"/journeys/{journey.pk}/states/{done.pk}", {"kind": "end", "action": ""}).status_code == 200
    body = assert_error(editor.post(f"/journeys/{journey.pk}/transitions", {"source": done.pk, "target": ask.pk}), 422)
    assert body["details"][0]["path"] == "source"
    body = assert_error(editor.patch(f"/journeys/{journey.pk}/states/{confirm.pk}", {"kind": "end"}), 422)
    assert body["details"][0]["path"] == "kind"


def test_the_report_names_unreachable_states_and_a_missing_initial_state(editor: Any, journey: Journey) -> None:
    island = editor.post(f"/journeys/{journey.pk}/states", {"key": "island", "action": "Alone"}).json()

    report = editor.get(f"/journeys/{journey.pk}/validate").json()
    assert report["ok"] is True
    assert report["unreachable_states"] == ["island"]
    assert "island" in report["warnings"][0]

    assert editor.delete(f"/journeys/{journey.pk}/states/{_state(journey, 'ask').pk}").status_code == 204
    report = editor.get(f"/journeys/{journey.pk}/validate").json()
    assert report["ok"] is False
    assert "no initial state" in report["errors"][0]
    assert island["id"] in journey.states.values_list("pk", flat=True)


def test_deleting_a_state_deletes_its_transitions(editor: Any, journey: Journey) -> None:
    confirm = _state(journey, "confirm")
    assert editor.delete(f"/journeys/{journey.pk}/states/{confirm.pk}").status_code == 204
    assert not journey.transitions.exists()
    assert [item["key"] for item in editor.get(f"/journeys/{journey.pk}/states").json()] == ["ask", "done"]


def test_a_duplicate_journey_key_is_a_409_and_the_list_filters(
    editor: Any, agent: Agent, other_agent: Agent, journey: Journey
) -> None:
    assert_error(editor.post("/journeys", {"agent": agent.pk, "key": "refund", "title": "Again"}), 409, "conflict")
    make_journey(other_agent, "refund")
    assert [item["key"] for item in editor.get("/journeys", agent=agent.pk).json()["items"]] == ["refund"]
    assert editor.get("/journeys", q="refund").json()["count"] == 2


def test_triggers_must_be_guidelines_of_the_same_agent(editor: Any, agent: Agent, other_agent: Agent) -> None:
    foreign = make_guideline(other_agent, "foreign", action=None)
    body = assert_error(
        editor.post("/journeys", {"agent": agent.pk, "key": "j", "title": "J", "triggers": [foreign.pk]}), 422
    )
    assert body["details"][0]["path"] == "triggers[0]"
    assert not Journey.objects.filter(key="j").exists()


def test_updating_a_transition_moves_it_within_the_journey(editor: Any, journey: Journey) -> None:
    transition = journey.transitions.get(source__key="ask")
    done = _state(journey, "done")

    response = editor.patch(
        f"/journeys/{journey.pk}/transitions/{transition.pk}", {"target": done.pk, "condition": "Skips confirmation"}
    )

    assert response.status_code == 200
    transition.refresh_from_db()
    assert (transition.target, transition.condition) == (done, "Skips confirmation")


def test_a_transition_can_name_its_states_by_key(editor: Any, agent: Agent) -> None:
    journey = make_journey(agent, "card", states=("ask", "done"), transitions=[])
    response = editor.post(
        f"/journeys/{journey.pk}/transitions", {"source": "ask", "target": "done", "condition": "Named the card"}
    )

    assert response.status_code == 201, response.content
    transition = journey.transitions.get()
    assert (transition.source.key, transition.target.key) == ("ask", "done")


def test_an_unknown_state_key_is_named_in_the_error_and_nothing_is_written(editor: Any, agent: Agent) -> None:
    journey = make_journey(agent, "card", states=("ask",), transitions=[])
    response = editor.post(f"/journeys/{journey.pk}/transitions", {"source": "ask", "target": "payment"})

    body = assert_error(response, 422)
    assert body["details"][0]["path"] == "target"
    assert "payment" in body["details"][0]["message"]
    assert journey.transitions.count() == 0


def test_renaming_a_journey_moves_what_was_scoped_to_it_and_the_agent_still_publishes(
    editor: Any, agent: Agent, other_agent: Agent, journey: Journey
) -> None:
    scoped = make_guideline(agent, "refund-step-tip", tags=[make_tag("journey:refund")])
    make_journey(other_agent, "refund")  # another agent's journey of the same key keeps its scope
    elsewhere = make_guideline(other_agent, "other-refund-tip", tags=[make_tag("journey:refund")])

    renamed = editor.patch(f"/journeys/{journey.pk}", {"key": "refund-request"})

    assert renamed.status_code == 200
    assert [tag.name for tag in scoped.tags.all()] == ["journey:refund-request"]
    assert [tag.name for tag in elsewhere.tags.all()] == ["journey:refund"]
    assert editor.post(f"/agents/{agent.pk}/publish").status_code == 201


def test_a_journey_that_entities_are_scoped_to_cannot_be_deleted(editor: Any, agent: Agent, journey: Journey) -> None:
    scoped = make_guideline(agent, "refund-step-tip", tags=[make_tag("journey:refund")])

    refused = editor.delete(f"/journeys/{journey.pk}")

    assert_error(refused, 409, "journey_in_use")
    assert refused.json()["details"]["scoped"] == {"guidelines": ["refund-step-tip"]}
    assert Journey.objects.filter(pk=journey.pk).exists()
    scoped.tags.clear()
    assert editor.delete(f"/journeys/{journey.pk}").status_code == 204
