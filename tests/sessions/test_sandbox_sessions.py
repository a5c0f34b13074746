"""The sandbox page: test customers with tags and variable values, starting sessions on a version, the session
list, the chat page and posting as the customer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import BehaviorVersion, ContextVariable, ContextVariableValue
from sessions.models import Customer, Event, Session, Turn
from sessions.services import event_append
from tests.factories import make_customer, make_session, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client: Client, tester_user: Any) -> Client:
    client.force_login(tester_user)
    return client


def test_the_sandbox_page_lists_agents_versions_and_says_when_there_are_no_sessions(
    logged_in: Client, agent: Agent, other_agent: Agent
) -> None:
    BehaviorVersion.objects.create(agent=agent, number=1, document={}, note="first")
    version = BehaviorVersion.objects.create(agent=agent, number=2, document={})
    agent.published_version = version
    agent.save()
    response = logged_in.get(reverse("sandbox:home"), {"agent": agent.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Skyway Support" in html and "Other Agent" in html
    assert 'value="published">Published (v2)' in html
    assert 'value="1">v1' in html and "first" in html
    assert "No sessions yet" in html


def test_with_no_agent_the_sandbox_says_how_to_get_one(logged_in: Client) -> None:
    response = logged_in.get(reverse("sandbox:home"))
    assert response.status_code == 200
    assert "No agents yet" in response.content.decode()


def test_the_page_says_clearly_when_no_language_model_is_configured(
    logged_in: Client, agent: Agent, settings: Any
) -> None:
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    html = logged_in.get(reverse("sandbox:home")).content.decode()
    assert "No language model configured" in html
    assert "OPENAI_API_KEY" in html
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    html = logged_in.get(reverse("sandbox:home")).content.decode()
    assert "No language model configured" not in html


def test_creating_a_test_customer_stores_tags_and_per_customer_variable_values(logged_in: Client, agent: Agent) -> None:
    ContextVariable.objects.create(agent=agent, name="loyalty_tier", description="Tier")
    ContextVariable.objects.create(agent=agent, name="miles", description="Miles")
    page = logged_in.get(reverse("sandbox:home")).content.decode()
    assert 'name="var_loyalty_tier"' in page
    response = logged_in.post(
        reverse("sandbox:customer-create"),
        {
            "agent": agent.pk,
            "name": "Maria",
            "tags": "vip, frequent-flyer",
            "var_loyalty_tier": "gold",
            "var_miles": "84210",
        },
    )
    customer = Customer.objects.get(name="Maria")
    assert response.status_code == 302
    assert response["Location"] == reverse("sandbox:home") + f"?agent={agent.pk}&customer={customer.pk}"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["frequent-flyer", "vip"]
    values = dict(
        ContextVariableValue.objects.filter(customer=customer, scope="customer").values_list("variable__name", "value")
    )
    assert values == {"loyalty_tier": "gold", "miles": 84210}
    # and it is preselected in the start form
    page = logged_in.get(response["Location"]).content.decode()
    assert f'<option value="{customer.pk}" selected>Maria (frequent-flyer, vip)</option>' in page


def test_an_invalid_customer_is_refused_with_the_reason_and_nothing_is_stored(logged_in: Client, agent: Agent) -> None:
    response = logged_in.post(
        reverse("sandbox:customer-create"), {"agent": agent.pk, "name": "Bad", "tags": "not a tag!"}
    )
    assert response.status_code == 422
    assert "Use letters, digits and . _ : / -" in response.content.decode()
    assert not Customer.objects.filter(name="Bad").exists()
    response = logged_in.post(reverse("sandbox:customer-create"), {"agent": agent.pk, "name": ""})
    assert response.status_code == 422
    assert not Customer.objects.exists()


def test_starting_a_session_on_the_draft_a_published_and_a_past_version(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    customer = make_customer("Maria")
    v1 = BehaviorVersion.objects.create(agent=agent, number=1, document={})
    v2 = BehaviorVersion.objects.create(agent=agent, number=2, document={})
    agent.published_version = v2
    agent.save()
    expected = {"draft": None, "published": v2, "1": v1}
    for choice, version in expected.items():
        response = logged_in.post(
            reverse("sandbox:session-start"), {"agent": agent.pk, "version": choice, "customer": customer.pk}
        )
        session = Session.objects.order_by("-id").first()
        assert response.status_code == 302
        assert response["Location"] == reverse("sandbox:session", kwargs={"uid": session.uid})
        assert session.version == version
        assert session.source == "sandbox" and session.created_by == tester_user and session.customer == customer


def test_starting_a_session_on_a_missing_version_or_with_a_real_customer_is_refused(
    logged_in: Client, agent: Agent
) -> None:
    customer = make_customer("Maria")
    response = logged_in.post(
        reverse("sandbox:session-start"), {"agent": agent.pk, "version": "7", "customer": customer.pk}
    )
    assert response.status_code == 422
    assert "has no version 7" in response.content.decode()
    widget_customer = make_customer("Real Person")
    make_session(agent, widget_customer, source="widget")
    response = logged_in.post(
        reverse("sandbox:session-start"), {"agent": agent.pk, "version": "draft", "customer": widget_customer.pk}
    )
    assert response.status_code == 422
    assert Session.objects.filter(source="sandbox").count() == 0


def test_the_session_list_is_paginated_and_shows_only_my_sessions(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    customer = make_customer("Maria")
    mine = [make_session(agent, customer, created_by=tester_user, title=f"mine-{i}") for i in range(23)]
    make_session(agent, customer, created_by=make_user("someone", "tester"), title="theirs")
    first = logged_in.get(reverse("sandbox:home"), {"agent": agent.pk}).content.decode()
    assert "Page 1 of 2" in first
    assert "theirs" not in first
    fragment = logged_in.get(
        reverse("sandbox:home"),
        {"agent": agent.pk, "page": 2},
        headers={"HX-Request": "true", "HX-Target": "session-list"},
    )
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section class="card" id="session-list">')
    assert "Page 2 of 2" in html
    shown = sum(f">mine-{i}<" in first + html for i in range(23))
    assert shown == len(mine)


def test_the_session_page_renders_the_history_with_escaped_text_and_the_websocket_address(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    event_append(session, kind="message", source="customer", data={"text": "<img src=x onerror=alert(1)>"})
    event_append(session, kind="status", source="agent", data={"status": "processing"})
    event_append(
        session,
        kind="tool",
        source="agent",
        data={"tool": "find_booking", "arguments": {"ref": "SKY1"}, "result": {"ok": True}},
    )
    event_append(session, kind="message", source="agent", data={"text": "Found it", "message_id": "m1"})
    response = logged_in.get(reverse("sandbox:session", kwargs={"uid": session.uid}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert 'id="event-1"' in html and 'id="event-3"' in html and 'id="event-4"' in html
    assert 'id="event-2"' not in html  # an intermediate status only drives the status line
    assert "find_booking" in html and "SKY1" in html
    assert 'data-last-offset="4"' in html
    assert f'data-ws-path="/ws/sandbox/sessions/{session.uid}/"' in html
    assert 'maxlength="4000"' in html


def test_an_event_fragment_is_the_partial_of_one_event(logged_in: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "Hi"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    event_append(session, kind="message", source="agent", data={"text": "Hello!", "message_id": "m1"}, turn=turn)
    event_append(session, kind="status", source="agent", data={"status": "ready"}, turn=turn)
    response = logged_in.get(
        reverse("sandbox:event", kwargs={"uid": session.uid, "offset": 2}), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="event-2"')
    assert reverse("sandbox:trace", kwargs={"uid": session.uid, "turn_id": turn.pk}) in html
    assert reverse("sandbox:regenerate", kwargs={"uid": session.uid, "offset": 2}) in html
    ready = logged_in.get(reverse("sandbox:event", kwargs={"uid": session.uid, "offset": 3}))
    assert ready.status_code == 200 and ready.content == b""


def test_posting_as_the_customer_stores_the_message_and_queues_a_turn(
    logged_in: Client, tester_user: Any, agent: Agent, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    enqueued: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", enqueued.append)
    session = make_session(agent, created_by=tester_user)
    url = reverse("sandbox:message-post", kwargs={"uid": session.uid})
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url, {"text": "  Where is my bag?  "})
    assert response.status_code == 302
    event = Event.objects.get(session=session)
    assert event.source == "customer" and event.data["text"] == "Where is my bag?"
    turn = Turn.objects.get(session=session)
    assert turn.status == "pending" and turn.trigger_event == event
    assert enqueued == [turn.pk]
    htmx = logged_in.post(url, {"text": "And my coat?"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 204


def test_a_message_over_the_size_limit_or_empty_is_refused(logged_in: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    url = reverse("sandbox:message-post", kwargs={"uid": session.uid})
    too_long = logged_in.post(url, {"text": "x" * 4001}, headers={"HX-Request": "true"})
    assert too_long.status_code == 422
    assert "at most 4000 characters" in too_long.content.decode()
    empty = logged_in.post(url, {"text": "   "}, headers={"HX-Request": "true"})
    assert empty.status_code == 422
    assert not Event.objects.filter(session=session).exists()
