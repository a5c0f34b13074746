"""Posting customer and operator messages, and switching a session between the agent and a human."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from config.errors import Conflict, PayloadTooLarge, ValidationFailed
from sessions.models import Event, Session, Turn, TurnStatus
from sessions.services import customer_message_post, operator_message_post, session_mode_set
from tests.support.realtime import group_drain, group_listen, realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Turns handed to the queue after commit (not run)."""
    realtime_settings(settings)
    ids: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", ids.append)
    return ids


def test_it_stores_the_message_and_queues_a_pending_turn_after_commit(session: Session, enqueued: list[int]) -> None:
    event = customer_message_post(session, text="  Where is my bag?  ")

    assert (event.offset, event.kind, event.source, event.data) == (
        1,
        "message",
        "customer",
        {"text": "Where is my bag?"},
    )
    turn = Turn.objects.get(session=session)
    assert (turn.status, turn.trigger_event_id, turn.attempts) == (TurnStatus.PENDING, event.pk, 0)
    assert enqueued == [turn.pk]


def test_it_keeps_json_metadata_with_the_message(session: Session, enqueued: list[int]) -> None:
    event = customer_message_post(session, text="Hi", metadata={"channel": "sms"})

    assert event.data == {"text": "Hi", "metadata": {"channel": "sms"}}


@pytest.mark.parametrize("text", ["", "   \n\t", None, 42])
def test_it_rejects_an_empty_or_non_text_message(session: Session, enqueued: list[int], text: Any) -> None:
    with pytest.raises(ValidationFailed):
        customer_message_post(session, text=text)

    assert not Event.objects.filter(session=session).exists()
    assert enqueued == []


def test_it_rejects_a_message_over_the_size_limit_with_413(
    session: Session, enqueued: list[int], settings: Any
) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 10

    with pytest.raises(PayloadTooLarge) as caught:
        customer_message_post(session, text="x" * 11)

    assert caught.value.status == 413
    assert "limit is 10" in caught.value.message
    assert not Turn.objects.exists()


def test_it_refuses_a_customer_message_with_another_source(session: Session, enqueued: list[int]) -> None:
    with pytest.raises(ValidationFailed):
        customer_message_post(session, text="hello", source="agent")


def test_a_newer_message_supersedes_the_pending_turn(session: Session, enqueued: list[int]) -> None:
    customer_message_post(session, text="first")
    customer_message_post(session, text="second")

    first, second = Turn.objects.filter(session=session).order_by("id")
    assert first.status == TurnStatus.SUPERSEDED
    assert first.finished_at is not None
    assert second.status == TurnStatus.PENDING
    assert second.trigger_event.data["text"] == "second"


def test_no_turn_is_created_while_a_human_owns_the_session(
    session: Session, enqueued: list[int], operator_user: Any
) -> None:
    session_mode_set(session, mode="human", user=operator_user)

    event = customer_message_post(session, text="Anyone there?")

    assert event.offset == 2
    assert not Turn.objects.filter(session=session).exists()
    assert enqueued == []


def test_taking_over_appends_a_status_event_and_supersedes_the_pending_turn(
    session: Session, enqueued: list[int], operator_user: Any
) -> None:
    customer_message_post(session, text="help")

    updated = session_mode_set(session, mode="human", user=operator_user)

    assert updated.mode == "human"
    assert Session.objects.get(pk=session.pk).state["mode"] == "human"
    assert Turn.objects.get(session=session).status == TurnStatus.SUPERSEDED
    status = Event.objects.get(session=session, offset=2)
    assert (status.kind, status.source) == ("status", "system")
    assert status.data["status"] == "human_takeover"
    assert status.data["operator"]["id"] == operator_user.pk


def test_handing_back_appends_agent_resumed_and_setting_the_same_mode_is_a_no_op(
    session: Session, enqueued: list[int], operator_user: Any
) -> None:
    session_mode_set(session, mode="human", user=operator_user)
    session_mode_set(session, mode="human", user=operator_user)
    session_mode_set(session, mode="auto", user=operator_user)

    statuses = [e.data["status"] for e in Event.objects.filter(session=session).order_by("offset")]
    assert statuses == ["human_takeover", "agent_resumed"]
    assert Session.objects.get(pk=session.pk).mode == "auto"


def test_it_rejects_an_unknown_mode(session: Session, enqueued: list[int], operator_user: Any) -> None:
    with pytest.raises(ValidationFailed):
        session_mode_set(session, mode="robot", user=operator_user)


def test_an_operator_message_is_refused_unless_the_session_is_in_human_mode(
    session: Session, enqueued: list[int], operator_user: Any
) -> None:
    with pytest.raises(Conflict):
        operator_message_post(session, text="Hi, I'm Sam", user=operator_user)

    session_mode_set(session, mode="human", user=operator_user)
    event = operator_message_post(session, text="Hi, I'm Sam", user=operator_user)

    assert (event.kind, event.source, event.data["text"]) == ("message", "human_operator", "Hi, I'm Sam")
    assert event.data["operator"] == {"id": operator_user.pk, "name": "operator", "display_name": "operator"}
    assert enqueued == []


async def test_the_stored_message_is_broadcast_to_the_session_group(session: Session, enqueued: list[int]) -> None:
    layer, channel = await group_listen(session.uid)

    event = await database_sync_to_async(customer_message_post)(session, text="ping")
    messages = await group_drain(layer, channel)

    assert [m["type"] for m in messages] == ["session.event"]
    wire = messages[0]["event"]
    assert wire["offset"] == event.offset
    assert wire["session"] == str(session.uid)
    assert wire["data"] == {"text": "ping"}
    assert (wire["kind"], wire["source"], wire["turn"]) == ("message", "customer", None)
