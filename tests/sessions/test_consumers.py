"""The sandbox websocket consumer: who may connect, replay from an offset, live events in order, no
duplicates or gaps across a resume, and posting messages (turns run inline with a scripted engine)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from sessions.broadcast import EVENT, event_broadcast_on_commit, session_group
from sessions.models import Event, EventKind, EventSource, Session
from sessions.routing import websocket_urlpatterns
from sessions.serializers import event_to_dict
from sessions.services import customer_message_post, event_append, session_mode_set
from sessions.services.records import session_rewind
from tests.factories import make_session
from tests.support.realtime import ScriptedEngine, realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def engine(settings: Any, monkeypatch: pytest.MonkeyPatch) -> ScriptedEngine:
    realtime_settings(settings)
    scripted = ScriptedEngine(reply="Hi there")
    monkeypatch.setattr("sessions.services.turns.run_turn", scripted)
    return scripted


@pytest.fixture
def tester_session(agent: Any, customer: Any, tester_user: Any) -> Session:
    return make_session(agent, customer, created_by=tester_user)


def communicator_for(session: Session, user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/sandbox/sessions/{session.uid}/")
    communicator.scope["user"] = user
    return communicator


async def connected(session: Session, user: Any, *, after: int | None = 0) -> WebsocketCommunicator:
    communicator = communicator_for(session, user)
    ok, _ = await communicator.connect()
    assert ok
    if after is not None:
        await communicator.send_json_to({"type": "resume", "after": after})
    return communicator


async def frames(
    communicator: WebsocketCommunicator, *, quiet_seconds: float = 0.3, until_offset: int | None = None
) -> list[dict[str, Any]]:
    """Every frame the server sends until it goes quiet for `quiet_seconds`; with `until_offset`, first wait (up
    to 10 s a frame) for the event with that offset, so a turn that runs slowly on a busy machine is not cut off."""
    received: list[dict[str, Any]] = []
    if until_offset is not None:
        while until_offset not in offsets(received):
            received.append(await communicator.receive_json_from(timeout=10))
    while not await communicator.receive_nothing(timeout=quiet_seconds):
        received.append(await communicator.receive_json_from())
    return received


async def synced(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Frames sent before the consumer answers a ping: it has handled everything sent before (so the test
    may write to the database without racing the consumer's reads)."""
    await communicator.send_json_to({"type": "ping"})
    received = []
    while (frame := await communicator.receive_json_from(timeout=5)) != {"type": "pong"}:
        received.append(frame)
    return received


def offsets(received: list[dict[str, Any]]) -> list[int]:
    return [frame["event"]["offset"] for frame in received if frame["type"] == "event"]


def append_message(session: Session, text: str, source: str = EventSource.CUSTOMER) -> Event:
    event = event_append(session, kind=EventKind.MESSAGE, source=source, data={"text": text})
    event.session = session
    event_broadcast_on_commit(event)
    return event


async def closed_with(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=1)
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_an_anonymous_user_is_refused_with_4401(tester_session: Session) -> None:
    communicator = communicator_for(tester_session, AnonymousUser())
    await communicator.connect()

    assert await closed_with(communicator) == 4401


async def test_another_tester_is_refused_with_4403(tester_session: Session) -> None:
    from tests.factories import make_user

    other = await database_sync_to_async(make_user)("other-tester", "tester")
    communicator = communicator_for(tester_session, other)
    await communicator.connect()

    assert await closed_with(communicator) == 4403


async def test_a_user_without_a_role_is_refused_with_4403(tester_session: Session, outsider_user: Any) -> None:
    communicator = communicator_for(tester_session, outsider_user)
    await communicator.connect()

    assert await closed_with(communicator) == 4403


async def test_an_unknown_session_is_refused_like_a_forbidden_one(tester_user: Any) -> None:
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), "/ws/sandbox/sessions/00000000-0000-4000-8000-000000000000/"
    )
    communicator.scope["user"] = tester_user
    await communicator.connect()

    assert await closed_with(communicator) == 4403


async def test_the_creator_and_an_admin_are_admitted(
    tester_session: Session, tester_user: Any, admin_user: Any
) -> None:
    for user in (tester_user, admin_user):
        communicator = await connected(tester_session, user)
        assert await frames(communicator) == []
        await communicator.disconnect()


async def test_resume_replays_every_event_after_the_offset(tester_session: Session, tester_user: Any) -> None:
    for number in range(1, 6):
        await database_sync_to_async(append_message)(tester_session, f"message {number}")

    communicator = await connected(tester_session, tester_user, after=2)
    received = await synced(communicator)

    assert offsets(received) == [3, 4, 5]
    assert [frame["event"]["data"]["text"] for frame in received] == ["message 3", "message 4", "message 5"]
    assert received[0]["event"]["session"] == str(tester_session.uid)
    await communicator.disconnect()


async def test_a_long_log_is_replayed_in_pages_without_gaps(tester_session: Session, tester_user: Any) -> None:
    for number in range(450):
        await database_sync_to_async(append_message)(tester_session, f"m{number}")

    communicator = await connected(tester_session, tester_user, after=0)
    received = await frames(communicator)

    assert offsets(received) == list(range(1, 451))
    await communicator.disconnect()


async def test_a_message_sent_over_the_socket_streams_the_reply_and_its_events_in_order(
    tester_session: Session, tester_user: Any
) -> None:
    communicator = await connected(tester_session, tester_user)

    await communicator.send_json_to({"type": "message", "text": "Hello agent"})
    received = await frames(communicator)

    flow = [frame["event"]["offset"] if frame["type"] == "event" else frame["text"] for frame in received]
    assert flow == [1, 2, 3, "Hi ", "there ", 4, 5]
    reply = received[-2]["event"]
    assert (reply["kind"], reply["source"], reply["data"]["text"]) == ("message", "agent", "Hi there")
    assert received[-1]["event"]["data"] == {"status": "ready"}
    chunk = received[3]
    assert chunk["type"] == "chunk" and chunk["message_id"] == reply["data"]["message_id"]
    assert await database_sync_to_async(Event.objects.filter(session=tester_session).count)() == 5
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_what_it_missed_once_and_in_order(
    tester_session: Session, tester_user: Any
) -> None:
    first = await connected(tester_session, tester_user)
    await first.send_json_to({"type": "message", "text": "one"})
    seen = offsets(await frames(first))
    assert seen == [1, 2, 3, 4, 5]
    await first.disconnect()

    # While the client is away the conversation goes on.
    await database_sync_to_async(customer_message_post)(tester_session, text="two")

    second = await connected(tester_session, tester_user, after=seen[-1])
    await second.send_json_to({"type": "message", "text": "three"})
    received = offsets(await frames(second))

    assert received == list(range(6, 16))
    await second.disconnect()


async def test_live_copies_of_events_already_replayed_are_not_sent_twice(
    tester_session: Session, tester_user: Any
) -> None:
    early = await database_sync_to_async(append_message)(tester_session, "early")
    communicator = await connected(tester_session, tester_user, after=None)
    # Committed after the consumer joined the group, before it resumed: in the replay and in the queue.
    during = await database_sync_to_async(append_message)(tester_session, "during")

    await communicator.send_json_to({"type": "resume", "after": 0})
    assert offsets(await frames(communicator)) == [early.offset, during.offset]

    # A broadcast that arrives after the replay already covered it (an event committed during the replay).
    await get_channel_layer().group_send(
        session_group(tester_session.uid), {"type": EVENT, "event": await database_sync_to_async(event_to_dict)(during)}
    )
    later = await database_sync_to_async(append_message)(tester_session, "later")
    assert offsets(await frames(communicator)) == [later.offset]
    await communicator.disconnect()


async def test_a_live_event_ahead_of_a_missing_one_is_preceded_by_it_from_the_database(
    tester_session: Session, tester_user: Any
) -> None:
    communicator = await connected(tester_session, tester_user)
    assert await synced(communicator) == []
    # Two processes commit offsets 1 and 2, and the broadcast of 2 overtakes that of 1.
    one = await database_sync_to_async(event_append)(
        tester_session, kind="message", source="customer", data={"text": "one"}
    )
    two = await database_sync_to_async(event_append)(
        tester_session, kind="message", source="agent", data={"text": "two"}
    )
    layer = get_channel_layer()
    for event in (two, one):
        event.session = tester_session
        await layer.group_send(session_group(tester_session.uid), {"type": EVENT, "event": event_to_dict(event)})

    received = await frames(communicator)

    assert offsets(received) == [1, 2]
    await communicator.disconnect()


async def test_a_rewind_tells_connected_clients_and_the_reused_offsets_reach_them(
    tester_session: Session, tester_user: Any
) -> None:
    communicator = await connected(tester_session, tester_user)
    await communicator.send_json_to({"type": "message", "text": "one"})
    assert offsets(await frames(communicator, until_offset=5)) == [1, 2, 3, 4, 5]

    await database_sync_to_async(session_rewind)(tester_session, from_offset=2)
    assert await frames(communicator) == [{"type": "rewound", "from": 2}]

    again = await database_sync_to_async(append_message)(tester_session, "after the rewind")
    assert again.offset == 2
    assert offsets(await frames(communicator)) == [2]
    await communicator.disconnect()


async def test_a_client_resuming_past_the_end_of_a_rewound_log_is_told_to_drop_what_it_has(
    tester_session: Session, tester_user: Any
) -> None:
    await database_sync_to_async(append_message)(tester_session, "one")
    await database_sync_to_async(append_message)(tester_session, "two")
    await database_sync_to_async(session_rewind)(tester_session, from_offset=2)

    communicator = await connected(tester_session, tester_user, after=5)  # it saw 1..5 before the rewind
    assert await frames(communicator) == [{"type": "rewound", "from": 2}]

    replacement = await database_sync_to_async(append_message)(tester_session, "three")
    assert offsets(await frames(communicator)) == [replacement.offset] == [2]
    await communicator.disconnect()


async def test_events_are_not_sent_before_the_client_resumes(tester_session: Session, tester_user: Any) -> None:
    communicator = await connected(tester_session, tester_user, after=None)
    await database_sync_to_async(append_message)(tester_session, "hello")

    assert await frames(communicator) == []
    await communicator.disconnect()


async def test_an_invalid_message_gets_an_error_frame_and_the_socket_stays_open(
    tester_session: Session, tester_user: Any
) -> None:
    communicator = await connected(tester_session, tester_user)

    await communicator.send_json_to({"type": "message", "text": "   "})
    await communicator.send_to(text_data="not json")
    await communicator.send_json_to({"type": "dance"})
    await communicator.send_json_to({"type": "resume", "after": -1})
    received = await frames(communicator)

    assert [(frame["type"], frame["code"]) for frame in received] == [
        ("error", "validation_failed"),
        ("error", "bad_request"),
        ("error", "bad_request"),
        ("error", "bad_request"),
    ]
    await communicator.send_json_to({"type": "message", "text": "fine now"})
    assert offsets(await frames(communicator, until_offset=5)) == [1, 2, 3, 4, 5]
    await communicator.disconnect()


async def test_an_oversized_frame_is_refused_before_it_reaches_the_database(
    tester_session: Session, tester_user: Any, settings: Any
) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 10
    communicator = await connected(tester_session, tester_user)

    await communicator.send_json_to({"type": "message", "text": "x" * 5000})
    await communicator.send_json_to({"type": "message", "text": "x" * 11})
    received = await frames(communicator)

    assert [frame["code"] for frame in received] == ["payload_too_large", "payload_too_large"]
    assert not await database_sync_to_async(Event.objects.filter(session=tester_session).exists)()
    await communicator.disconnect()


async def test_an_operator_may_watch_and_reply_in_human_mode_but_not_write_as_the_customer(
    tester_session: Session, operator_user: Any
) -> None:
    await database_sync_to_async(session_mode_set)(tester_session, mode="human", user=operator_user)
    communicator = await connected(tester_session, operator_user)
    assert offsets(await frames(communicator)) == [1]

    await communicator.send_json_to({"type": "message", "text": "pretending to be the customer"})
    await communicator.send_json_to({"type": "operator_message", "text": "Hello, this is Sam"})
    received = await frames(communicator)

    assert received[0] == {
        "type": "error",
        "code": "forbidden",
        "message": "You may not write as the customer in this session.",
    }
    assert received[1]["event"]["source"] == "human_operator"
    assert received[1]["event"]["data"]["text"] == "Hello, this is Sam"
    await communicator.disconnect()
