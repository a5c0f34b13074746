"""Flags on agent messages (stored, listed per agent, scoped to visible sessions) and human mode from the
sandbox (take over, write as the human agent, hand back; no agent turn while a human owns the session)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from sessions.models import Event, Flag, Session, Turn
from sessions.services import event_append
from sessions.services.handoff import handoff_request
from tests.factories import make_session, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(agent: Agent, tester_user: Any) -> Session:
    session = make_session(agent, created_by=tester_user, title="Refunds")
    question = event_append(session, kind="message", source="customer", data={"text": "Refund please"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    event_append(
        session, kind="message", source="agent", data={"text": "Refunds take 90 days.", "message_id": "m1"}, turn=turn
    )
    return session


def test_flagging_an_agent_message_stores_the_flag_and_returns_the_updated_event(
    client: Client, tester_user: Any, chat: Session
) -> None:
    client.force_login(tester_user)
    url = reverse("sandbox:flag", kwargs={"uid": chat.uid, "offset": 2})
    response = client.post(url, {"reason": "Wrong: refunds take 7 days"}, headers={"HX-Request": "true"})
    flag = Flag.objects.get()
    assert response.status_code == 200
    assert flag.session == chat and flag.event.offset == 2 and flag.created_by == tester_user
    assert flag.reason == "Wrong: refunds take 7 days"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="event-2"')
    assert "Wrong: refunds take 7 days" in html


def test_a_flag_needs_a_reason_and_an_agent_message(client: Client, tester_user: Any, chat: Session) -> None:
    client.force_login(tester_user)
    empty = client.post(
        reverse("sandbox:flag", kwargs={"uid": chat.uid, "offset": 2}), {"reason": " "}, headers={"HX-Request": "true"}
    )
    assert empty.status_code == 422
    customer = client.post(reverse("sandbox:flag", kwargs={"uid": chat.uid, "offset": 1}), {"reason": "rude"})
    assert customer.status_code == 302
    assert not Flag.objects.exists()


def test_the_agent_flags_page_lists_flags_of_sessions_the_user_may_see(
    client: Client, tester_user: Any, admin_user: Any, agent: Agent, other_agent: Agent, chat: Session
) -> None:
    Flag.objects.create(session=chat, event=chat.events.get(offset=2), reason="Too slow", created_by=tester_user)
    theirs = make_session(agent, created_by=make_user("another", "tester"))
    reply = event_append(theirs, kind="message", source="agent", data={"text": "Hi"})
    Flag.objects.create(session=theirs, event=reply, reason="Someone else's flag")
    elsewhere = make_session(other_agent, created_by=tester_user)
    reply = event_append(elsewhere, kind="message", source="agent", data={"text": "Hi"})
    Flag.objects.create(session=elsewhere, event=reply, reason="Other agent's flag")
    client.force_login(tester_user)
    html = client.get(reverse("sandbox:agent-flags", kwargs={"agent_id": agent.pk})).content.decode()
    assert "Too slow" in html and "Refunds take 90 days." in html
    assert reverse("sandbox:session", kwargs={"uid": chat.uid}) + "#event-2" in html
    assert "Someone else&#x27;s flag" not in html and "Other agent" not in html
    client.force_login(admin_user)
    html = client.get(reverse("sandbox:agent-flags", kwargs={"agent_id": agent.pk})).content.decode()
    assert "Too slow" in html and "Someone else&#x27;s flag" in html


def test_the_flags_page_has_an_empty_state_and_needs_a_role(
    client: Client, tester_user: Any, outsider_user: Any, agent: Agent
) -> None:
    client.force_login(tester_user)
    assert (
        "No flagged messages yet"
        in client.get(reverse("sandbox:agent-flags", kwargs={"agent_id": agent.pk})).content.decode()
    )
    client.force_login(outsider_user)
    assert client.get(reverse("sandbox:agent-flags", kwargs={"agent_id": agent.pk})).status_code == 403


def test_taking_over_writing_as_the_human_agent_and_handing_back(
    client: Client, tester_user: Any, chat: Session, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    enqueued: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", enqueued.append)
    client.force_login(tester_user)
    mode_url = reverse("sandbox:mode", kwargs={"uid": chat.uid})
    assert client.post(mode_url, {"mode": "human"}).status_code == 302
    chat.refresh_from_db()
    assert chat.mode == "human"
    page = client.get(reverse("sandbox:session", kwargs={"uid": chat.uid})).content.decode()
    assert 'id="operator-composer"' in page and 'id="hand-back"' in page
    assert "took over" in page
    # the customer writes: stored, but no agent turn while a human owns the session
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sandbox:message-post", kwargs={"uid": chat.uid}), {"text": "Hello?"})
    assert Turn.objects.filter(session=chat).count() == 1
    assert enqueued == []
    response = client.post(reverse("sandbox:operator-message", kwargs={"uid": chat.uid}), {"text": "Hi, Sam here."})
    assert response.status_code == 302
    human = Event.objects.get(session=chat, source="human_operator")
    assert human.data["text"] == "Hi, Sam here." and human.data["operator"]["id"] == tester_user.pk
    assert client.post(mode_url, {"mode": "auto"}).status_code == 302
    chat.refresh_from_db()
    assert chat.mode == "auto"
    statuses = list(Event.objects.filter(session=chat, kind="status").values_list("data__status", flat=True))
    assert statuses == ["human_takeover", "agent_resumed"]


def test_writing_as_the_human_agent_outside_human_mode_is_refused(
    client: Client, tester_user: Any, chat: Session
) -> None:
    client.force_login(tester_user)
    response = client.post(
        reverse("sandbox:operator-message", kwargs={"uid": chat.uid}), {"text": "Hi"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Take over the session" in response.content.decode()
    assert not Event.objects.filter(session=chat, source="human_operator").exists()


def test_the_mode_controls_fragment_reflects_the_mode(client: Client, tester_user: Any, chat: Session) -> None:
    client.force_login(tester_user)
    url = reverse("sandbox:session", kwargs={"uid": chat.uid})
    headers = {"HX-Request": "true", "HX-Target": "session-controls"}
    before = client.get(url, headers=headers).content.decode()
    assert before.lstrip().startswith('<div id="session-controls"') and 'id="take-over"' in before
    client.post(reverse("sandbox:mode", kwargs={"uid": chat.uid}), {"mode": "human"})
    after = client.get(url, headers=headers).content.decode()
    assert 'id="hand-back"' in after and 'id="operator-composer"' in after


def test_an_operator_is_sent_to_the_inbox_which_lists_sessions_waiting_for_a_human(
    client: Client, operator_user: Any, chat: Session, agent: Agent
) -> None:
    quiet = make_session(agent, title="Quiet one")
    handoff_request(chat, reason="customer")
    client.force_login(operator_user)
    assert client.get(reverse("home")).url == reverse("inbox:list")
    response = client.get(reverse("inbox:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("inbox:session", kwargs={"uid": chat.uid}) in html
    assert reverse("inbox:session", kwargs={"uid": quiet.uid}) not in html  # a sandbox chat with the agent
    assert quiet.mode == "auto"
