"""The journey pages: the list, a new journey, its settings and deletion, and the journey's page whose plain
forms edit every state and transition without JavaScript."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from behavior.models import AuditEntry, CannedResponse, Journey, JourneyState, JourneyTransition
from tests.factories import make_journey, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text


@pytest.fixture(autouse=True)
def _no_linter_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lint package is written separately; until it exists the page shows no findings."""
    if importlib.util.find_spec("behavior.lint") is None:
        monkeypatch.setattr("behavior.views.journeys.entity_lint", lambda agent, **_: [])


@pytest.fixture
def journey(agent: Any) -> Journey:
    return make_journey(agent, "refund", states=("ask", "check", "done"), title="Refund a ticket")


def state_of(journey: Journey, key: str) -> JourneyState:
    return journey.states.get(key=key)


def detail_url(journey: Journey) -> str:
    return reverse("studio:journey-detail", args=[journey.agent_id, journey.pk])


def state_post(journey: Journey, state: JourneyState, **changes: Any) -> dict[str, Any]:
    """The form data of a state's own form on the journey page, with `changes`."""
    values: dict[str, Any] = {
        "key": state.key,
        "kind": state.kind,
        "action": state.action,
        "tool": state.tool.name if state.tool_id else "",
        "revision": state.revision,
        "tools": [tool.name for tool in state.tools.all()],
        "canned_responses": [],
    }
    if state.initial:
        values["initial"] = "on"
    values.update(changes)
    if values.get("initial") is False:
        values.pop("initial")
    return {f"state-{state.pk}-{name}": value for name, value in values.items()}


# ---- Who may open what


PAGES = ("list", "create", "detail", "update")


def page_url(name: str, journey: Journey) -> str:
    agent_id = journey.agent_id
    return {
        "list": reverse("studio:journey-list", args=[agent_id]),
        "create": reverse("studio:journey-create", args=[agent_id]),
        "detail": detail_url(journey),
        "update": reverse("studio:journey-update", args=[agent_id, journey.pk]),
    }[name]


@pytest.mark.parametrize("name", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client: Client, journey: Journey, name: str) -> None:
    response = client.get(page_url(name, journey))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_an_outsider_may_not_open_journey_pages(outsider_client: Client, journey: Journey, name: str) -> None:
    response = outsider_client.get(page_url(name, journey))
    assert response.status_code == 403
    assert "You may not open" in response.content.decode()


def test_a_tester_reads_journeys_but_cannot_change_them(tester_client: Client, journey: Journey) -> None:
    assert tester_client.get(page_url("list", journey)).status_code == 200
    page = tester_client.get(detail_url(journey))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-readonly="true"' in html
    assert "Save state" not in html and "Add state" not in html
    assert tester_client.get(page_url("create", journey)).status_code == 403
    assert tester_client.get(page_url("update", journey)).status_code == 403
    state = state_of(journey, "ask")
    posts = [
        (reverse("studio:journey-create", args=[journey.agent_id]), {"key": "x", "title": "X"}),
        (page_url("update", journey), {"key": "x", "title": "X"}),
        (reverse("studio:journey-delete", args=[journey.agent_id, journey.pk]), {}),
        (reverse("studio:journey-state-create", args=[journey.agent_id, journey.pk]), {"new-state-key": "x"}),
        (
            reverse("studio:journey-state-update", args=[journey.agent_id, journey.pk, state.pk]),
            state_post(journey, state),
        ),
        (reverse("studio:journey-state-delete", args=[journey.agent_id, journey.pk, state.pk]), {}),
        (reverse("studio:journey-transition-create", args=[journey.agent_id, journey.pk]), {}),
    ]
    for url, data in posts:
        response = tester_client.post(url, data)
        assert response.status_code == 403, url
    assert journey.states.count() == 3 and Journey.objects.filter(pk=journey.pk).exists()


def test_a_journey_of_another_agent_is_not_found_under_this_agent(
    editor_client: Client, agent: Any, other_agent: Any
) -> None:
    foreign = make_journey(other_agent, "foreign")
    for url in (
        reverse("studio:journey-detail", args=[agent.pk, foreign.pk]),
        reverse("studio:journey-update", args=[agent.pk, foreign.pk]),
    ):
        assert editor_client.get(url).status_code == 404
    response = editor_client.post(reverse("studio:journey-delete", args=[agent.pk, foreign.pk]))
    assert response.status_code == 404
    assert Journey.objects.filter(pk=foreign.pk).exists()


def test_a_state_of_another_journey_is_not_found_under_this_journey(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    other = make_journey(agent, "other")
    foreign_state = other.states.first()
    url = reverse("studio:journey-state-update", args=[agent.pk, journey.pk, foreign_state.pk])
    assert editor_client.post(url, {}).status_code == 404
    url = reverse("studio:journey-state-delete", args=[agent.pk, journey.pk, foreign_state.pk])
    assert editor_client.post(url).status_code == 404
    assert JourneyState.objects.filter(pk=foreign_state.pk).exists()


# ---- The list


def test_the_list_shows_the_agents_journeys_and_searches_them(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    make_journey(agent, "change-seat", title="Change a seat")
    page = editor_client.get(page_url("list", journey))
    html = page.content.decode()
    assert "<html" in html and "refund" in html and "change-seat" in html
    fragment = editor_client.get(page_url("list", journey) + "?q=seat", **HX).content.decode()
    assert "<html" not in fragment and 'id="journey-table"' in fragment
    assert "change-seat" in fragment and "refund" not in fragment


def test_an_agent_without_journeys_gets_an_invitation_to_add_the_first(editor_client: Client, agent: Any) -> None:
    html = editor_client.get(reverse("studio:journey-list", args=[agent.pk])).content.decode()
    assert "No journeys yet" in html and "Add the first journey" in html


# ---- Creating, editing, deleting a journey


def test_an_editor_creates_a_journey_and_lands_on_its_page(editor_client: Client, agent: Any) -> None:
    response = editor_client.post(
        reverse("studio:journey-create", args=[agent.pk]),
        {"key": "rebook", "title": "Rebook a flight", "conditions": "The customer missed a flight\n", "tags": "vip"},
    )
    journey = Journey.objects.get(agent=agent, key="rebook")
    assert response.status_code == 302 and response["Location"] == detail_url(journey)
    assert journey.conditions == ["The customer missed a flight"]
    assert [tag.name for tag in journey.tags.all()] == ["vip"]


def test_an_invalid_journey_key_is_shown_beside_its_field(editor_client: Client, agent: Any) -> None:
    response = editor_client.post(reverse("studio:journey-create", args=[agent.pk]), {"key": "Not A Key", "title": ""})
    assert response.status_code == 422
    html = response.content.decode()
    key_block = html.split('id="field-key"', 1)[1].split('id="field-title"', 1)[0]
    assert "lowercase letters" in key_block.lower()
    title_block = html.split('id="field-title"', 1)[1].split("</div>", 2)
    assert "required" in "".join(title_block).lower()


def test_a_duplicate_journey_key_is_refused_beside_the_key(editor_client: Client, journey: Journey, agent: Any) -> None:
    response = editor_client.post(
        reverse("studio:journey-create", args=[agent.pk]), {"key": "refund", "title": "Again"}
    )
    assert response.status_code == 409
    assert "refund" in response.content.decode()
    assert Journey.objects.filter(agent=agent, key="refund").count() == 1


def test_an_editor_edits_a_journeys_settings(editor_client: Client, journey: Journey) -> None:
    response = editor_client.post(
        page_url("update", journey),
        {"key": "refund", "title": "Refund any ticket", "revision": journey.revision},
    )
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.title == "Refund any ticket"


def test_a_stale_journey_edit_shows_both_versions(editor_client: Client, journey: Journey) -> None:
    opened = journey.revision
    Journey.objects.filter(pk=journey.pk).update(title="Changed meanwhile", revision=opened + 1)
    response = editor_client.post(page_url("update", journey), {"key": "refund", "title": "Mine", "revision": opened})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Changed meanwhile" in html and "Mine" in html


def test_an_editor_deletes_a_journey(editor_client: Client, journey: Journey) -> None:
    response = editor_client.post(reverse("studio:journey-delete", args=[journey.agent_id, journey.pk]))
    assert response.status_code == 302
    assert not Journey.objects.filter(pk=journey.pk).exists()


# ---- The journey's page


def test_the_journey_page_holds_the_graph_editor_and_the_forms(editor_client: Client, journey: Journey) -> None:
    response = editor_client.get(detail_url(journey))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "data-journey-graph" in html and 'data-readonly="false"' in html
    assert reverse("studio:journey-graph", args=[journey.agent_id, journey.pk]) in html
    assert reverse("studio:journey-layout", args=[journey.agent_id, journey.pk]) in html
    assert "journey-graph.js" in html
    for state in journey.states.all():
        assert f'id="state-{state.pk}"' in html
    for transition in journey.transitions.all():
        assert f'id="transition-{transition.pk}"' in html


def test_the_list_view_of_a_journey_has_no_graph_editor(editor_client: Client, journey: Journey) -> None:
    html = editor_client.get(detail_url(journey) + "?view=forms").content.decode()
    assert "data-journey-graph" not in html and "journey-graph.js" not in html
    assert f'id="state-{state_of(journey, "ask").pk}"' in html


def test_htmx_gets_the_forms_fragment_of_the_journey_page(editor_client: Client, journey: Journey) -> None:
    html = editor_client.get(detail_url(journey), **HX).content.decode()
    assert "<html" not in html and 'id="journey-forms"' in html


def test_the_page_lists_the_problems_of_the_graph(editor_client: Client, agent: Any) -> None:
    journey = make_journey(
        agent, "broken", states=({"key": "a", "initial": False}, "b", {"key": "c", "kind": "end"}), transitions=[]
    )
    html = editor_client.get(detail_url(journey)).content.decode()
    assert "has no initial state" in html
    assert "dead end" in html


def test_an_editor_adds_a_state_with_the_plain_form(editor_client: Client, journey: Journey, agent: Any) -> None:
    tool = make_tool(agent, "lookup_order")
    CannedResponse.objects.create(agent=agent, key="greeting", template="Hello!")
    response = editor_client.post(
        reverse("studio:journey-state-create", args=[agent.pk, journey.pk]),
        {
            "new-state-key": "look-up",
            "new-state-kind": "tool",
            "new-state-tool": "lookup_order",
            "new-state-tools": ["lookup_order"],
            "new-state-canned_responses": ["greeting"],
        },
    )
    assert response.status_code == 302
    state = journey.states.get(key="look-up")
    assert state.tool == tool and list(state.tools.all()) == [tool]
    assert [response.key for response in state.canned_responses.all()] == ["greeting"]
    assert AuditEntry.objects.filter(entity_type="journey_state", entity_id=state.pk).exists()


def test_a_chat_state_without_an_action_is_refused_beside_the_action(editor_client: Client, journey: Journey) -> None:
    response = editor_client.post(
        reverse("studio:journey-state-create", args=[journey.agent_id, journey.pk]),
        {"new-state-key": "silent", "new-state-kind": "chat", "new-state-action": ""},
    )
    assert response.status_code == 422
    html = response.content.decode()
    block = html.split('id="field-new-state-action"', 1)[1].split('id="field-new-state-tool"', 1)[0]
    assert "needs an action" in block
    assert not journey.states.filter(key="silent").exists()


def test_an_editor_edits_a_state_with_the_plain_form(editor_client: Client, journey: Journey) -> None:
    state = state_of(journey, "check")
    url = reverse("studio:journey-state-update", args=[journey.agent_id, journey.pk, state.pk])
    response = editor_client.post(url, state_post(journey, state, action="Check the booking", initial="on"))
    assert response.status_code == 302
    state.refresh_from_db()
    assert state.action == "Check the booking" and state.initial
    assert not state_of(journey, "ask").initial


def test_a_stale_state_edit_gives_409_with_both_versions(editor_client: Client, journey: Journey) -> None:
    state = state_of(journey, "check")
    data = state_post(journey, state, action="My action")
    JourneyState.objects.filter(pk=state.pk).update(action="Their action", revision=state.revision + 1)
    url = reverse("studio:journey-state-update", args=[journey.agent_id, journey.pk, state.pk])
    response = editor_client.post(url, data)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone changed this since you opened it" in html
    assert "Their action" in html and "My action" in html
    assert f'name="state-{state.pk}-revision" value="{state.revision + 1}"' in html


def test_an_editor_deletes_a_state_with_its_transitions(editor_client: Client, journey: Journey) -> None:
    state = state_of(journey, "check")
    url = reverse("studio:journey-state-delete", args=[journey.agent_id, journey.pk, state.pk])
    assert editor_client.post(url).status_code == 302
    assert not JourneyState.objects.filter(pk=state.pk).exists()
    assert journey.transitions.count() == 0


def test_an_editor_adds_edits_and_deletes_a_transition_with_the_plain_forms(
    editor_client: Client, journey: Journey
) -> None:
    ask, done = state_of(journey, "ask"), state_of(journey, "done")
    create = reverse("studio:journey-transition-create", args=[journey.agent_id, journey.pk])
    response = editor_client.post(
        create,
        {
            "new-transition-source": ask.pk,
            "new-transition-target": done.pk,
            "new-transition-condition": "Nothing to check",
        },
    )
    assert response.status_code == 302
    transition = journey.transitions.get(source=ask, target=done)
    assert transition.condition == "Nothing to check"
    update = reverse("studio:journey-transition-update", args=[journey.agent_id, journey.pk, transition.pk])
    prefix = f"transition-{transition.pk}"
    response = editor_client.post(
        update,
        {
            f"{prefix}-source": ask.pk,
            f"{prefix}-target": done.pk,
            f"{prefix}-condition": "",
            f"{prefix}-revision": transition.revision,
        },
    )
    assert response.status_code == 302
    transition.refresh_from_db()
    assert transition.condition is None
    delete = reverse("studio:journey-transition-delete", args=[journey.agent_id, journey.pk, transition.pk])
    assert editor_client.post(delete).status_code == 302
    assert not JourneyTransition.objects.filter(pk=transition.pk).exists()


def test_a_transition_to_a_state_of_another_journey_is_refused(
    editor_client: Client, journey: Journey, agent: Any
) -> None:
    other_state = make_journey(agent, "other").states.first()
    response = editor_client.post(
        reverse("studio:journey-transition-create", args=[agent.pk, journey.pk]),
        {"new-transition-source": state_of(journey, "ask").pk, "new-transition-target": other_state.pk},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose a state of this journey" in html.split('id="field-new-transition-target"', 1)[1]
    assert not JourneyTransition.objects.filter(target=other_state, journey=journey).exists()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_texts_show_as_text_on_every_journey_page(editor_client: Client, agent: Any, hostile: str) -> None:
    journey = make_journey(
        agent,
        "hostile",
        title=hostile,
        description=hostile,
        states=({"key": "a", "action": hostile}, "b"),
        transitions=[],
    )
    a, b = state_of(journey, "a"), state_of(journey, "b")
    JourneyTransition.objects.create(journey=journey, source=a, target=b, condition=hostile)
    for url in (
        page_url("list", journey),
        detail_url(journey),
        detail_url(journey) + "?view=forms",
        page_url("update", journey),
    ):
        html = editor_client.get(url).content.decode()
        assert_shown_as_text(html, hostile)


def test_a_refused_state_form_comes_back_as_the_plain_forms_with_its_error(editor_client: Any, agent: Any) -> None:
    journey = Journey.objects.create(agent=agent, key="lost-passport", title="Lost passport")
    response = editor_client.post(
        f"/studio/agents/{agent.pk}/journeys/{journey.pk}/states/",
        {"new-state-key": "ask", "new-state-kind": "chat", "new-state-action": ""},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "A chat state needs an action" in html and 'id="state-new"' in html
    assert "data-journey-graph" not in html
