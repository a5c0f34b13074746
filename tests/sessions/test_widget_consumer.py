"""The widget's websocket: the key's origins checked at the handshake (outside the login-guarded routes), the
customer token in the first frame, the sandbox's replay and live path with internals hidden, and a cap on live
connections per address."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from agents.models import Agent, WidgetKey
from sessions.broadcast import event_broadcast_on_commit, typing_broadcast
from sessions.models import Event, EventKind, EventSource, Session
from sessions.routing import websocket_application
from sessions.services import event_append
from tests.support.widget import OTHER_SITE, SITE, WidgetClient, published, scripted_turns, widget_key_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def engine(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return scripted_turns(settings, monkeypatch, reply="Glad to help")


@pytest.fixture
def key(agent: Agent) -> WidgetKey:
    return widget_key_for(published(agent))


@pytest.fixture
def widget(key: WidgetKey) -> WidgetClient:
    widget = WidgetClient(key)
    widget.start()
    return widget


@pytest.fixture
def uid(widget: WidgetClient) -> str:
    return str(widget.open_session()["uid"])


def socket(
    uid: str, *, public_key: str, origin: str | None = SITE, address: str = "203.0.113.7"
) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin is not None else []
    communicator = WebsocketCommunicator(
        websocket_application(), f"/ws/widget/sessions/{uid}/?key={public_key}", headers=headers
    )
    communicator.scope["client"] = (address, 50000)
    return communicator


async def opened(widget: WidgetClient, uid: str, *, after: int = 0, **options: Any) -> WebsocketCommunicator:
    communicator = socket(uid, public_key=widget.key.public_key, **options)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "resume", "token": widget.token, "after": after})
    return communicator


async def closed_with(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close", output
    return int(output["code"])


async def synced(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Frames sent before the consumer answers a ping."""
    await communicator.send_json_to({"type": "ping"})
    received = []
    while (frame := await communicator.receive_json_from(timeout=5)) != {"type": "pong"}:
        received.append(frame)
    return received


async def until_ready(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Frames up to and including the turn's "ready" status."""
    received: list[dict[str, Any]] = []
    while True:
        frame = await communicator.receive_json_from(timeout=10)
        received.append(frame)
        if frame["type"] == "event" and frame["event"].get("status") == "ready":
            return received


def append(uid: str, kind: str, source: str, data: dict[str, Any]) -> int:
    session = Session.objects.get(uid=uid)
    event = event_append(session, kind=kind, source=source, data=data)
    event.session = session
    event_broadcast_on_commit(event)
    return int(event.offset)


# ---------------------------------------------------------------- handshake


async def test_an_allowed_origin_with_the_visitors_token_is_admitted(widget: WidgetClient, uid: str) -> None:
    communicator = await opened(widget, uid)
    assert await synced(communicator) == []
    await communicator.disconnect()


async def test_another_origin_is_closed_with_4403_at_the_handshake(widget: WidgetClient, uid: str) -> None:
    communicator = socket(uid, public_key=widget.key.public_key, origin=OTHER_SITE)
    await communicator.connect()
    assert await closed_with(communicator) == 4403


async def test_a_handshake_without_origin_is_closed_with_4403(widget: WidgetClient, uid: str) -> None:
    communicator = socket(uid, public_key=widget.key.public_key, origin=None)
    await communicator.connect()
    assert await closed_with(communicator) == 4403


async def test_an_unknown_key_is_closed_with_4403(uid: str) -> None:
    communicator = socket(uid, public_key="pk_unknown")
    await communicator.connect()
    assert await closed_with(communicator) == 4403


async def test_the_sandbox_route_still_refuses_a_foreign_origin_before_any_login_check(uid: str) -> None:
    communicator = WebsocketCommunicator(
        websocket_application(), f"/ws/sandbox/sessions/{uid}/", headers=[(b"origin", SITE.encode())]
    )
    connected, _ = await communicator.connect()
    assert connected is False  # AllowedHostsOriginValidator denied the handshake itself


async def test_a_missing_token_is_closed_with_4401(widget: WidgetClient, uid: str) -> None:
    communicator = socket(uid, public_key=widget.key.public_key)
    await communicator.connect()
    await communicator.send_json_to({"type": "resume", "after": 0})
    assert await closed_with(communicator) == 4401


async def test_a_forged_token_is_closed_with_4401(widget: WidgetClient, uid: str) -> None:
    communicator = socket(uid, public_key=widget.key.public_key)
    await communicator.connect()
    await communicator.send_json_to({"type": "resume", "token": "forged.token", "after": 0})
    assert await closed_with(communicator) == 4401


async def test_another_visitors_session_is_closed_with_4403(key: WidgetKey, uid: str) -> None:
    stranger = WidgetClient(key)
    await database_sync_to_async(stranger.start)()
    communicator = await opened(stranger, uid)
    assert await closed_with(communicator) == 4403


async def test_a_message_before_resume_gets_an_error_and_writes_nothing(widget: WidgetClient, uid: str) -> None:
    communicator = socket(uid, public_key=widget.key.public_key)
    await communicator.connect()
    await communicator.send_json_to({"type": "message", "text": "sneaky"})
    frame = await communicator.receive_json_from(timeout=2)
    assert frame["type"] == "error" and frame["code"] == "bad_request"
    assert not await database_sync_to_async(Event.objects.filter(session__uid=uid).exists)()
    await communicator.disconnect()


# ---------------------------------------------------------------- connection cap


async def test_connections_over_the_per_address_cap_are_closed_with_4429(
    widget: WidgetClient, uid: str, settings: Any
) -> None:
    settings.WIDGET_CONNECTIONS_PER_IP = 2
    first = await opened(widget, uid)
    second = await opened(widget, uid)
    third = socket(uid, public_key=widget.key.public_key)
    await third.connect()
    assert await closed_with(third) == 4429
    elsewhere = await opened(widget, uid, address="198.51.100.1")
    assert await synced(elsewhere) == []
    await first.disconnect()
    again = await opened(widget, uid)
    assert await synced(again) == []
    for communicator in (second, elsewhere, again):
        await communicator.disconnect()


# ---------------------------------------------------------------- the stream


async def test_resume_replays_the_conversation_and_hides_tool_events(widget: WidgetClient, uid: str) -> None:
    await database_sync_to_async(append)(uid, EventKind.MESSAGE, EventSource.CUSTOMER, {"text": "Where is it?"})
    await database_sync_to_async(append)(uid, EventKind.TOOL, EventSource.AGENT, {"result": {"api_key": "sk-1"}})
    await database_sync_to_async(append)(uid, EventKind.CUSTOM, EventSource.SYSTEM, {"internal": "note"})
    await database_sync_to_async(append)(uid, EventKind.MESSAGE, EventSource.AGENT, {"text": "On its way"})
    communicator = await opened(widget, uid)
    received = await synced(communicator)
    assert [(frame["event"]["offset"], frame["event"]["text"]) for frame in received] == [
        (1, "Where is it?"),
        (4, "On its way"),
    ]
    assert "sk-1" not in str(received)
    await communicator.disconnect()


async def test_a_live_hidden_event_moves_the_offset_so_the_next_one_is_not_taken_for_a_gap(
    widget: WidgetClient, uid: str
) -> None:
    communicator = await opened(widget, uid)
    await synced(communicator)
    await database_sync_to_async(append)(uid, EventKind.TOOL, EventSource.AGENT, {"secret": "s"})
    await database_sync_to_async(append)(uid, EventKind.MESSAGE, EventSource.AGENT, {"text": "After the tool"})
    received = await synced(communicator)
    assert [frame["event"]["offset"] for frame in received] == [2]
    await communicator.disconnect()


async def test_a_message_over_the_socket_streams_chunks_and_hides_tool_events(
    widget: WidgetClient, uid: str, engine: Any
) -> None:
    engine.tool_data = {"tool": "lookup_order", "result": {"internal_id": "db-row-991"}}
    communicator = await opened(widget, uid)
    await synced(communicator)
    await communicator.send_json_to({"type": "message", "text": "Hello"})
    received = await until_ready(communicator)
    kinds = [frame["type"] for frame in received]
    assert kinds.count("chunk") == 2
    chunks = [frame for frame in received if frame["type"] == "chunk"]
    assert set(chunks[0]) == {"type", "message_id", "text"}
    events = [frame["event"] for frame in received if frame["type"] == "event"]
    assert [event["kind"] for event in events] == ["message", "status", "status", "message", "status"]
    assert [event.get("status") for event in events if event["kind"] == "status"] == ["processing", "typing", "ready"]
    reply = events[3]
    assert (reply["source"], reply["text"]) == ("agent", "Glad to help")
    assert chunks[0]["message_id"] == reply["message_id"]
    assert "db-row-991" not in str(received) and "trace" not in str(received)
    stored = await database_sync_to_async(
        lambda: list(Event.objects.filter(session__uid=uid).values_list("kind", flat=True))
    )()
    assert "tool" in stored
    await communicator.disconnect()


async def test_a_reconnecting_customer_gets_what_it_missed(widget: WidgetClient, uid: str) -> None:
    first = await opened(widget, uid)
    await synced(first)
    await first.disconnect()
    await database_sync_to_async(append)(uid, EventKind.MESSAGE, EventSource.AGENT, {"text": "While you were away"})
    again = await opened(widget, uid, after=0)
    assert [frame["event"]["text"] for frame in await synced(again)] == ["While you were away"]
    await again.disconnect()


async def test_an_operator_typing_is_shown_and_the_customers_own_typing_is_not_echoed(
    widget: WidgetClient, uid: str
) -> None:
    communicator = await opened(widget, uid)
    await synced(communicator)
    await communicator.send_json_to({"type": "typing"})
    await typing_broadcast(uid, who="operator", name="Dana")
    assert await synced(communicator) == [{"type": "typing", "who": "operator", "name": "Dana"}]
    await communicator.disconnect()


async def test_an_operators_message_shows_their_name_not_their_id(widget: WidgetClient, uid: str) -> None:
    communicator = await opened(widget, uid)
    await synced(communicator)
    operator = {"id": 42, "name": "Dana Scully", "display_name": "Dana"}
    await database_sync_to_async(append)(
        uid, EventKind.MESSAGE, EventSource.HUMAN_OPERATOR, {"text": "Hi, Dana here", "operator": operator}
    )
    (frame,) = await synced(communicator)
    assert frame["event"]["operator"] == {"name": "Dana"}
    assert "42" not in str(frame) and "Scully" not in str(frame)
    await communicator.disconnect()


async def test_a_closed_conversation_refuses_a_socket_message(widget: WidgetClient, uid: str) -> None:
    communicator = await opened(widget, uid)
    await synced(communicator)
    await database_sync_to_async(widget.post)(f"sessions/{uid}/close")
    await communicator.send_json_to({"type": "message", "text": "still there?"})
    received = await synced(communicator)
    assert {"type": "event", "event": received[0]["event"]} == received[0]
    assert received[0]["event"]["status"] == "closed"
    assert received[-1]["type"] == "error" and received[-1]["code"] == "conversation_closed"
    await communicator.disconnect()


async def test_socket_messages_over_the_per_session_rate_get_an_error(
    widget: WidgetClient, uid: str, settings: Any
) -> None:
    settings.WIDGET_MESSAGES_PER_MINUTE_PER_SESSION = 1
    communicator = await opened(widget, uid)
    await synced(communicator)
    await communicator.send_json_to({"type": "message", "text": "one"})
    await until_ready(communicator)
    await communicator.send_json_to({"type": "message", "text": "two"})
    received = await synced(communicator)
    assert received[-1]["type"] == "error" and received[-1]["code"] == "rate_limited"
    await communicator.disconnect()
