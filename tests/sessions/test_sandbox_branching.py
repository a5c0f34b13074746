"""Rewind and branch: editing a customer message or regenerating a reply opens a NEW session from that point;
the original stays intact and both link to each other."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from sessions.models import Event, Session, Trace, Turn
from sessions.services import event_append
from sessions.services.sandbox import session_branch
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def _answered(session: Session, question: str, answer: str, *, journey_state: str) -> Turn:
    asked = event_append(session, kind="message", source="customer", data={"text": question})
    turn = Turn.objects.create(session=session, trigger_event=asked, status="done")
    event_append(session, kind="status", source="agent", data={"status": "processing"}, turn=turn)
    event_append(
        session, kind="message", source="agent", data={"text": answer, "message_id": f"m{asked.offset}"}, turn=turn
    )
    Trace.objects.create(
        turn=turn, data={"journeys": {"after": {"baggage": journey_state}}, "turn": {"outcome": "replied"}}
    )
    return turn


@pytest.fixture
def conversation(agent: Agent, tester_user: Any) -> Session:
    """#1 customer, #2 status, #3 agent, #4 customer, #5 status, #6 agent; engine state after turn 2."""
    session = make_session(agent, created_by=tester_user, title="Lost bag")
    _answered(session, "My bag is lost", "Sorry! What is your reference?", journey_state="ask-reference")
    _answered(session, "It is SKY123", "Thanks, I filed claim PIR-1.", journey_state="share-reference")
    session.state = {
        "mode": "auto",
        "applied": [{"key": "apologise", "offset": 1}, {"key": "file-claim", "offset": 4}],
        "journeys": {"baggage": "share-reference"},
        "journey_paths": {"baggage": ["ask-reference", "share-reference"]},
        "summary": "",
        "summary_until_offset": -1,
        "key_facts": [],
    }
    session.save(update_fields=["state"])
    return session


@pytest.fixture
def enqueued(monkeypatch: Any) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", calls.append)
    return calls


def _log(session: Session) -> list[tuple[int, str, str, str]]:
    return [
        (e.offset, e.kind, e.source, str(e.data.get("text") or e.data.get("status")))
        for e in Event.objects.filter(session=session).order_by("offset")
    ]


def test_editing_a_customer_message_branches_and_keeps_the_original_intact(
    client: Client,
    tester_user: Any,
    conversation: Session,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    original_log = _log(conversation)
    original_state = dict(conversation.state)
    client.force_login(tester_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sandbox:branch", kwargs={"uid": conversation.uid, "offset": 4}), {"text": "It is SKY999"}
        )
    branch = Session.objects.exclude(pk=conversation.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sandbox:session", kwargs={"uid": branch.uid})
    # the original: unchanged log, state and turns
    conversation.refresh_from_db()
    assert _log(conversation) == original_log
    assert conversation.state == original_state
    assert conversation.turns.count() == 2
    # the branch: events before #4 with the same offsets, then the edited message and a new pending turn
    assert branch.parent == conversation and branch.branched_from_offset == 4
    assert branch.created_by == tester_user and branch.source == "sandbox" and branch.mode == "auto"
    assert _log(branch) == [*original_log[:3], (4, "message", "customer", "It is SKY999")]
    copied = Turn.objects.get(session=branch, status="done")
    assert copied.trigger_event.session == branch and copied.trigger_event.offset == 1
    assert Event.objects.get(session=branch, offset=3).turn == copied
    assert Trace.objects.get(turn=copied).data["journeys"]["after"] == {"baggage": "ask-reference"}
    pending = Turn.objects.get(session=branch, status="pending")
    assert pending.trigger_event.offset == 4
    assert enqueued == [pending.pk]
    # the engine state as it was before #4
    assert branch.state["applied"] == [{"key": "apologise", "offset": 1}]
    assert branch.state["journeys"] == {"baggage": "ask-reference"}
    assert branch.state["journey_paths"] == {"baggage": ["ask-reference"]}


def test_regenerating_a_reply_reruns_its_turn_in_a_new_branch(
    client: Client,
    tester_user: Any,
    conversation: Session,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    original_log = _log(conversation)
    client.force_login(tester_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sandbox:regenerate", kwargs={"uid": conversation.uid, "offset": 6}))
    branch = Session.objects.exclude(pk=conversation.pk).get()
    assert response.status_code == 302
    assert _log(conversation) == original_log
    assert branch.branched_from_offset == 4
    assert _log(branch) == [*original_log[:3], (4, "message", "customer", "It is SKY123")]
    assert len(enqueued) == 1


def test_only_customer_messages_can_be_edited_and_only_agent_replies_regenerated(
    client: Client, tester_user: Any, conversation: Session
) -> None:
    client.force_login(tester_user)
    response = client.post(reverse("sandbox:branch", kwargs={"uid": conversation.uid, "offset": 3}), {"text": "x"})
    assert response.status_code == 302
    assert "Only a customer message can be edited." in client.get(response["Location"]).content.decode()
    client.post(reverse("sandbox:regenerate", kwargs={"uid": conversation.uid, "offset": 1}))
    client.post(reverse("sandbox:branch", kwargs={"uid": conversation.uid, "offset": 4}), {"text": ""})
    assert Session.objects.count() == 1


def test_both_sessions_link_to_each_other(
    client: Client, tester_user: Any, conversation: Session, enqueued: list[int]
) -> None:
    branch = session_branch(conversation, offset=4, text="Another reference", user=tester_user)
    client.force_login(tester_user)
    branch_page = client.get(reverse("sandbox:session", kwargs={"uid": branch.uid})).content.decode()
    assert "Branched from" in branch_page
    assert reverse("sandbox:session", kwargs={"uid": conversation.uid}) + "#event-4" in branch_page
    original_page = client.get(reverse("sandbox:session", kwargs={"uid": conversation.uid})).content.decode()
    assert "Branches of this session" in original_page
    assert reverse("sandbox:session", kwargs={"uid": branch.uid}) in original_page
    # the copied reply stays explainable in the branch
    copied = Turn.objects.get(session=branch, status="done")
    trace = client.get(
        reverse("sandbox:trace", kwargs={"uid": branch.uid, "turn_id": copied.pk}), headers={"HX-Request": "true"}
    )
    assert trace.status_code == 200


def test_an_admin_branching_a_testers_session_owns_the_branch(
    admin_user: Any, conversation: Session, enqueued: list[int]
) -> None:
    branch = session_branch(conversation, offset=1, text="Hello again", user=admin_user)
    assert branch.created_by == admin_user
    assert _log(branch) == [(1, "message", "customer", "Hello again")]
    assert branch.state["applied"] == [] and branch.state["journeys"] == {}
