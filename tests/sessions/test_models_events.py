"""Customers, sessions and the append-only event log: offsets, immutability, size bounds, reading since an offset."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from agents.models import Agent
from behavior.models import BehaviorVersion, ImmutableRecordError
from config.errors import Conflict, ValidationFailed
from sessions.models import Customer, Event, Session, Turn
from sessions.selectors import session_events_since
from sessions.services import EVENT_DATA_MAX_BYTES, customer_create, event_append, session_create
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_customer_create_stores_metadata_and_tags_by_name() -> None:
    customer = customer_create(name="Ada", external_id="ext-1", metadata={"plan": "gold"}, tags=["vip"])
    customer.refresh_from_db()
    assert customer.metadata == {"plan": "gold"}
    assert list(customer.tags.values_list("name", flat=True)) == ["vip"]
    with pytest.raises(Conflict, match="external_id 'ext-1' already exists"):
        customer_create(name="Other", external_id="ext-1")
    assert Customer.objects.filter(external_id="ext-1").count() == 1


def test_customer_create_rejects_oversized_metadata() -> None:
    with pytest.raises(ValidationFailed, match="the limit is 16384"):
        customer_create(name="Ada", metadata={"blob": "x" * 20_000})
    assert Customer.objects.count() == 0


def test_session_create_opens_a_draft_session_with_a_public_uid(
    agent: Agent, customer: Customer, tester_user: Any
) -> None:
    session = session_create(
        agent=agent, customer=customer, source="sandbox", created_by=tester_user, title="Try refunds"
    )
    session.refresh_from_db()
    assert session.uid is not None
    assert session.runs_draft
    assert session.mode == "auto"
    assert session.created_by == tester_user


def test_session_create_rejects_an_unknown_source_and_a_version_of_another_agent(
    agent: Agent, other_agent: Agent, customer: Customer
) -> None:
    with pytest.raises(ValidationFailed, match="unknown session source 'fax'"):
        session_create(agent=agent, customer=customer, source="fax")
    foreign = BehaviorVersion.objects.create(agent=other_agent, number=1, document={})
    with pytest.raises(ValidationFailed, match="another agent"):
        session_create(agent=agent, customer=customer, source="api", version=foreign)
    assert Session.objects.count() == 0


def test_events_get_sequential_offsets_per_session(agent: Agent, session: Session) -> None:
    other_session = make_session(agent)
    offsets = [event_append(session, kind="message", source="customer", data={"text": str(i)}).offset for i in range(3)]
    other = event_append(other_session, kind="message", source="customer", data={"text": "hi"})
    assert offsets == [1, 2, 3]
    assert other.offset == 1
    assert list(session.events.values_list("offset", flat=True)) == [1, 2, 3]


def test_an_event_cannot_be_updated_once_appended(session: Session) -> None:
    event = event_append(session, kind="message", source="customer", data={"text": "hello"})
    event.data = {"text": "rewritten"}
    with pytest.raises(ImmutableRecordError):
        event.save()
    with pytest.raises(ImmutableRecordError):
        Event.objects.filter(pk=event.pk).update(data={"text": "rewritten"})
    assert Event.objects.get(pk=event.pk).data == {"text": "hello"}


def test_the_database_refuses_a_duplicate_offset(session: Session) -> None:
    event_append(session, kind="message", source="customer", data={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(session=session, offset=1, kind="message", source="agent", data={})


def test_event_append_rejects_oversized_or_invalid_data(session: Session) -> None:
    with pytest.raises(ValueError, match="limit is 65536"):
        event_append(session, kind="message", source="customer", data={"text": "x" * EVENT_DATA_MAX_BYTES})
    with pytest.raises(ValueError, match="Unknown event kind"):
        event_append(session, kind="shout", source="customer", data={})
    with pytest.raises(ValueError, match="Unknown event source"):
        event_append(session, kind="message", source="robot", data={})
    with pytest.raises(ValueError, match="JSON"):
        event_append(session, kind="message", source="customer", data={"when": object()})
    assert session.events.count() == 0


def test_event_append_links_a_turn_of_the_same_session_only(agent: Agent, session: Session) -> None:
    trigger = event_append(session, kind="message", source="customer", data={"text": "hi"})
    turn = Turn.objects.create(session=session, trigger_event=trigger)
    reply = event_append(session, kind="message", source="agent", data={"text": "hello"}, turn=turn)
    assert list(turn.events.all()) == [reply]
    with pytest.raises(ValueError, match="another session"):
        event_append(make_session(agent), kind="message", source="agent", data={}, turn=turn)


def test_events_since_returns_later_events_in_order_with_a_limit(session: Session) -> None:
    for index in range(5):
        event_append(session, kind="message", source="customer", data={"index": index})
    assert [event.offset for event in session_events_since(session, offset=0)] == [1, 2, 3, 4, 5]
    assert [event.offset for event in session_events_since(session, offset=3)] == [4, 5]
    assert [event.offset for event in session_events_since(session, offset=1, limit=2)] == [2, 3]
    assert session_events_since(session, offset=5) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory SQLite test database locks whole tables across threads"
)
def test_concurrent_appends_never_collide_or_leave_gaps(agent: Agent, customer: Customer) -> None:
    session = session_create(agent=agent, customer=customer, source="api")
    errors: list[BaseException] = []

    def append_many() -> None:
        try:
            for _ in range(10):
                event_append(session, kind="message", source="customer", data={})
        except BaseException as error:  # collected, asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(session.events.order_by("offset").values_list("offset", flat=True)) == list(range(1, 41))
