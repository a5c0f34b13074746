"""Customers, sessions, messages and the event log over the API (long polling and rewinding included)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections

from agents.models import Agent
from behavior.services import version_publish
from behavior.services.audit import SYSTEM
from sessions.models import Customer, Event, Session, Turn, TurnStatus
from sessions.services import event_append
from sessions.services.messages import session_mode_set
from tests.api_helpers import api_client, api_user_for, assert_error
from tests.factories import make_customer, make_guideline, make_session, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tester() -> Any:
    return api_client("tester")


@pytest.fixture
def session(agent: Agent, customer: Customer) -> Session:
    """A session the tester key's user created (a tester's key sees only those)."""
    return make_session(agent, customer, source="api", created_by=api_user_for("tester"))


# --------------------------------------------------------------------------------------------- customers


def test_customers_are_created_with_tags_and_external_ids_are_unique(tester: Any) -> None:
    created = tester.post(
        "/customers", {"name": "Grace", "external_id": "crm-7", "tags": ["vip"], "metadata": {"plan": "gold"}}
    )

    assert created.status_code == 201
    customer = Customer.objects.get(external_id="crm-7")
    assert [tag.name for tag in customer.tags.all()] == ["vip"]
    assert customer.metadata == {"plan": "gold"}
    body = assert_error(tester.post("/customers", {"name": "Other", "external_id": "crm-7"}), 409)
    assert body["details"][0]["path"] == "external_id"
    assert Customer.objects.filter(external_id="crm-7").count() == 1


def test_customer_metadata_is_bounded(tester: Any) -> None:
    body = assert_error(tester.post("/customers", {"name": "Big", "metadata": {"blob": "x" * 20_000}}), 422)
    assert body["details"][0]["path"] == "metadata"
    assert not Customer.objects.filter(name="Big").exists()


def test_the_customer_list_filters_and_updates_replace_tags(tester: Any) -> None:
    first = make_customer("Ada", external_id="a", tags=["vip"])
    make_customer("Grace", external_id="g")

    assert [item["name"] for item in tester.get("/customers", tag="vip").json()["items"]] == ["Ada"]
    assert [item["name"] for item in tester.get("/customers", external_id="g").json()["items"]] == ["Grace"]
    updated = tester.patch(f"/customers/{first.pk}", {"tags": ["gold"], "external_id": None})
    assert updated.json()["tags"] == ["gold"]
    first.refresh_from_db()
    assert first.external_id is None


# ---------------------------------------------------------------------------------------------- sessions


def test_a_session_runs_the_published_version_unless_told_otherwise(
    tester: Any, agent: Agent, customer: Customer
) -> None:
    body = assert_error(tester.post("/sessions", {"agent": agent.pk, "customer": customer.pk}), 422)
    assert body["details"][0]["path"] == "version"

    make_guideline(agent, "greet")
    version_publish(agent, actor=SYSTEM)
    published = tester.post("/sessions", {"agent": agent.pk, "customer": customer.pk, "title": "Help"}).json()
    draft = tester.post("/sessions", {"agent": agent.pk, "customer": customer.pk, "version": "draft"}).json()
    numbered = tester.post("/sessions", {"agent": agent.pk, "customer": customer.pk, "version": 1}).json()

    assert (published["version"], draft["version"], numbered["version"]) == (1, None, 1)
    assert published["source"] == "api"
    assert Session.objects.get(uid=published["uid"]).title == "Help"
    assert assert_error(tester.post("/sessions", {"agent": agent.pk, "customer": customer.pk, "version": 5}), 422)
    assert_error(tester.post("/sessions", {"agent": agent.pk, "customer": 424242, "version": "draft"}), 404)


def test_the_session_list_filters_by_agent_customer_and_mode(
    tester: Any, agent: Agent, other_agent: Agent, customer: Customer
) -> None:
    mine = make_session(agent, customer, source="api", created_by=api_user_for("tester"))
    make_session(other_agent, customer, source="sandbox", created_by=api_user_for("tester"))
    session_mode_set(mine, mode="human", user=None)

    assert [item["uid"] for item in tester.get("/sessions", agent=agent.pk).json()["items"]] == [str(mine.uid)]
    assert tester.get("/sessions", customer=customer.pk).json()["count"] == 2
    assert [item["uid"] for item in tester.get("/sessions", mode="human").json()["items"]] == [str(mine.uid)]
    assert tester.get("/sessions", source="widget").json()["count"] == 0


def test_an_operator_takes_a_session_over_and_writes_as_a_human(session: Session) -> None:
    operator = api_client("operator")
    assert_error(operator.post(f"/sessions/{session.uid}/operator-messages", {"text": "Hi"}), 409)

    taken = operator.patch(f"/sessions/{session.uid}", {"mode": "human"})
    written = operator.post(f"/sessions/{session.uid}/operator-messages", {"text": "A human here"})

    assert taken.json()["mode"] == "human"
    assert written.status_code == 201
    assert written.json()["source"] == "human_operator"
    assert [event.data.get("status") or event.data.get("text") for event in Event.objects.filter(session=session)] == [
        "human_takeover",
        "A human here",
    ]
    assert_error(operator.patch(f"/sessions/{session.uid}", {"title": "Renamed"}), 403)


def test_a_malformed_or_unknown_session_id_is_404(tester: Any) -> None:
    assert_error(tester.get("/sessions/not-a-uuid"), 404, "not_found")
    assert_error(tester.get("/sessions/00000000-0000-0000-0000-000000000000/events"), 404, "not_found")


def test_deleting_a_session_deletes_its_events(tester: Any, session: Session) -> None:
    event_append(session, kind="message", source="customer", data={"text": "hi"})
    assert tester.delete(f"/sessions/{session.uid}").status_code == 204
    assert not Session.objects.filter(pk=session.pk).exists()
    assert not Event.objects.exists()


# --------------------------------------------------------------------------------------- messages, events


def test_posting_a_message_answers_202_with_the_stored_event_and_queues_a_turn(tester: Any, session: Session) -> None:
    response = tester.post(f"/sessions/{session.uid}/messages", {"text": "  I want a refund  "})

    assert response.status_code == 202
    body = response.json()
    assert (body["offset"], body["kind"], body["source"], body["data"]["text"]) == (
        1,
        "message",
        "customer",
        "I want a refund",
    )
    assert body["session"] == str(session.uid)
    event = Event.objects.get(session=session)
    assert event.pk == body["id"]
    assert Turn.objects.get(session=session).status == TurnStatus.PENDING


def test_a_message_over_the_limit_is_a_413_and_stores_nothing(tester: Any, session: Session, settings: Any) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 50
    body = assert_error(tester.post(f"/sessions/{session.uid}/messages", {"text": "x" * 51}), 413, "payload_too_large")
    assert "50" in body["message"]
    assert not Event.objects.exists()
    assert_error(tester.post(f"/sessions/{session.uid}/messages", {"text": "   "}), 422)
    assert_error(tester.post(f"/sessions/{session.uid}/messages", {"text": 42}), 422)
    assert not Turn.objects.exists()


def test_events_after_an_offset_are_returned_oldest_first(tester: Any, session: Session) -> None:
    for number in range(1, 6):
        event_append(session, kind="message", source="customer", data={"text": f"m{number}"})

    page = tester.get(f"/sessions/{session.uid}/events", after=2, limit=2).json()

    assert [event["offset"] for event in page["events"]] == [3, 4]
    assert page["last_offset"] == 4
    empty = tester.get(f"/sessions/{session.uid}/events", after=5).json()
    assert empty == {"events": [], "last_offset": 5}
    assert_error(tester.get(f"/sessions/{session.uid}/events", wait=31), 422)
    assert_error(tester.get(f"/sessions/{session.uid}/events", after=-1), 422)


def test_a_long_poll_waits_for_the_timeout_when_nothing_arrives(tester: Any, session: Session) -> None:
    started = time.monotonic()
    body = tester.get(f"/sessions/{session.uid}/events", after=0, wait=0.6).json()
    elapsed = time.monotonic() - started
    assert body == {"events": [], "last_offset": 0}
    assert 0.55 <= elapsed < 3


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_returns_as_soon_as_an_event_arrives() -> None:
    agent = Agent.objects.create(name="Poller")
    session = make_session(agent, make_customer("Waiting"), source="api", created_by=api_user_for("tester"))
    tester = api_client("tester")

    def append_later() -> None:
        time.sleep(0.5)
        try:
            event_append(session, kind="message", source="agent", data={"text": "Here you go"})
        finally:
            close_old_connections()

    worker = threading.Thread(target=append_later)
    started = time.monotonic()
    worker.start()
    body = tester.get(f"/sessions/{session.uid}/events", after=0, wait=10).json()
    elapsed = time.monotonic() - started
    worker.join()

    assert [event["data"]["text"] for event in body["events"]] == ["Here you go"]
    assert body["last_offset"] == 1
    assert 0.4 <= elapsed < 5


def test_rewinding_deletes_events_from_an_offset_and_their_turns(tester: Any, session: Session) -> None:
    first = event_append(session, kind="message", source="customer", data={"text": "one"})
    Turn.objects.create(session=session, trigger_event=first, status=TurnStatus.DONE)
    event_append(session, kind="message", source="agent", data={"text": "reply"})
    second = event_append(session, kind="message", source="customer", data={"text": "two"})
    Turn.objects.create(session=session, trigger_event=second, status=TurnStatus.DONE)

    response = tester.delete(f"/sessions/{session.uid}/events", **{"from": 2})

    assert response.json() == {"deleted": 2}
    assert list(Event.objects.filter(session=session).values_list("offset", flat=True)) == [1]
    assert list(Turn.objects.filter(session=session).values_list("trigger_event_id", flat=True)) == [first.pk]
    assert event_append(session, kind="message", source="customer", data={"text": "again"}).offset == 2
    assert tester.delete(f"/sessions/{session.uid}/events", **{"from": 9}).json() == {"deleted": 0}


def test_rewinding_is_refused_while_the_agent_is_answering(tester: Any, session: Session) -> None:
    trigger = event_append(session, kind="message", source="customer", data={"text": "one"})
    Turn.objects.create(session=session, trigger_event=trigger, status=TurnStatus.RUNNING)

    assert_error(tester.delete(f"/sessions/{session.uid}/events", **{"from": 1}), 409, "turn_in_progress")
    assert Event.objects.filter(session=session).count() == 1
    assert_error(tester.delete(f"/sessions/{session.uid}/events", **{"from": 0}), 422)
    assert_error(tester.delete(f"/sessions/{session.uid}/events"), 422)


def test_nobody_writes_as_the_customer_of_a_widget_session(tester: Any, agent: Agent, customer: Customer) -> None:
    widget_session = make_session(agent, customer, source="widget", created_by=api_user_for("tester"))
    assert_error(tester.post(f"/sessions/{widget_session.uid}/messages", {"text": "Hello"}), 403, "forbidden")
    assert not Event.objects.filter(session=widget_session).exists()


# ------------------------------------------------------------------------- keys act as their owner


def test_a_testers_key_cannot_read_another_testers_session(agent: Agent, customer: Customer) -> None:
    alice, bob = make_user("alice", "tester"), make_user("bob", "tester")
    alices = make_session(agent, customer, source="api", created_by=alice)
    bobs = make_session(agent, customer, source="sandbox", created_by=bob)
    event_append(bobs, kind="message", source="customer", data={"text": "bob's secret"})
    alice_key = api_client("tester", user=alice)

    listed = [item["uid"] for item in alice_key.get("/sessions").json()["items"]]

    assert listed == [str(alices.uid)]
    assert_error(alice_key.get(f"/sessions/{bobs.uid}"), 404, "not_found")
    assert_error(alice_key.get(f"/sessions/{bobs.uid}/events", after=0), 404, "not_found")
    assert alice_key.get(f"/sessions/{alices.uid}").status_code == 200


def test_a_testers_key_cannot_write_in_or_delete_another_testers_session(agent: Agent, customer: Customer) -> None:
    alice, bob = make_user("alice", "tester"), make_user("bob", "tester")
    bobs = make_session(agent, customer, source="api", created_by=bob, title="Bob's")
    alice_key = api_client("tester", user=alice)

    assert_error(alice_key.post(f"/sessions/{bobs.uid}/messages", {"text": "hijack"}), 404, "not_found")
    assert_error(alice_key.patch(f"/sessions/{bobs.uid}", {"title": "Mine now"}), 404, "not_found")
    assert_error(alice_key.delete(f"/sessions/{bobs.uid}/events", **{"from": 1}), 404, "not_found")
    assert_error(alice_key.delete(f"/sessions/{bobs.uid}"), 404, "not_found")

    bobs.refresh_from_db()
    assert bobs.title == "Bob's"
    assert not Event.objects.filter(session=bobs).exists()


def test_a_session_created_through_a_key_belongs_to_the_keys_owner(agent: Agent, customer: Customer) -> None:
    version_publish(agent, actor=SYSTEM, note="v1")
    alice = make_user("alice", "tester")
    alice_key, bob_key = api_client("tester", user=alice), api_client("tester", user=make_user("bob", "tester"))

    created = alice_key.post("/sessions", {"agent": agent.pk, "customer": customer.pk})

    assert created.status_code == 201, created.content
    assert Session.objects.get(uid=created.json()["uid"]).created_by == alice
    assert_error(bob_key.get(f"/sessions/{created.json()['uid']}"), 404, "not_found")


def test_an_operators_and_an_admins_key_see_every_session(agent: Agent, customer: Customer) -> None:
    bobs = make_session(agent, customer, source="api", created_by=make_user("bob", "tester"))
    for role in ("operator", "admin"):
        assert api_client(role).get(f"/sessions/{bobs.uid}").status_code == 200


def test_an_admins_tester_key_sees_only_the_admins_own_sessions(
    agent: Agent, customer: Customer, admin_user: Any
) -> None:
    bobs = make_session(agent, customer, source="api", created_by=make_user("bob", "tester"))
    mine = make_session(agent, customer, source="api", created_by=admin_user)
    capped = api_client("tester", user=admin_user)

    assert_error(capped.get(f"/sessions/{bobs.uid}"), 404, "not_found")
    assert capped.get(f"/sessions/{mine.uid}").status_code == 200
