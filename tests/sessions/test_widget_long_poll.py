"""The widget's long-poll, `GET …/events?after=N&wait=S`: an async view that waits on the session's group without
holding a thread, answers at once when there is something to say, and re-reads the database as a safety net."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from agents.models import Agent, WidgetKey
from sessions.broadcast import event_broadcast_on_commit
from sessions.models import EventKind, EventSource, Session
from sessions.services import event_append
from sessions.widget.asgi import http_application
from tests.support.widget import SITE, WidgetClient, published, scripted_turns, widget_key_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def engine(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return scripted_turns(settings, monkeypatch)


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


class PollResponse:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.status_code = answer["status"]
        self.content: bytes = answer["body"]
        self.headers = {name.decode().lower(): value.decode() for name, value in answer["headers"]}

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def json(self) -> Any:
        return json.loads(self.content)


_application: Any = None


def application() -> Any:
    """The HTTP side of config/asgi.py (without its start-up work): the long-poll skips the middleware."""
    global _application
    if _application is None:
        _application = http_application(get_asgi_application())
    return _application


async def poll(widget: WidgetClient, uid: str, *, after: int = 0, wait: float = 0) -> tuple[PollResponse, float]:
    """One long-poll through the ASGI application; (response, seconds it took)."""
    headers = [(b"host", b"testserver")] + [
        (name.lower().encode(), value.encode()) for name, value in widget.headers().items()
    ]
    started = time.monotonic()
    communicator = HttpCommunicator(
        application(), "GET", f"/widget/v1/sessions/{uid}/events?after={after}&wait={wait}", headers=headers
    )
    answer = await communicator.get_response(timeout=60)
    return PollResponse(answer), time.monotonic() - started


def append(uid: str, text: str, *, broadcast: bool = True, kind: str = EventKind.MESSAGE) -> int:
    session = Session.objects.get(uid=uid)
    data = {"text": text} if kind == EventKind.MESSAGE else {"name": "lookup", "result": {"secret": text}}
    event = event_append(session, kind=kind, source=EventSource.AGENT, data=data)
    event.session = session
    if broadcast:
        event_broadcast_on_commit(event)
    return int(event.offset)


async def test_it_answers_at_once_when_events_exist(widget: WidgetClient, uid: str) -> None:
    await database_sync_to_async(append)(uid, "Already here")
    response, seconds = await poll(widget, uid, wait=20)
    assert response.status_code == 200
    body = response.json()
    assert [event["text"] for event in body["events"]] == ["Already here"]
    assert body["last_offset"] == 1 and body["session"]["uid"] == uid
    assert response["Access-Control-Allow-Origin"] == SITE
    assert seconds < 3


async def test_it_waits_and_answers_when_an_event_is_broadcast(widget: WidgetClient, uid: str) -> None:
    async def later() -> None:
        await asyncio.sleep(0.5)
        await database_sync_to_async(append)(uid, "Just arrived")

    (response, seconds), _ = await asyncio.gather(poll(widget, uid, wait=20), later())
    assert [event["text"] for event in response.json()["events"]] == ["Just arrived"]
    assert 0.4 < seconds < 5


async def test_it_times_out_with_no_events(widget: WidgetClient, uid: str) -> None:
    response, seconds = await poll(widget, uid, wait=1)
    assert response.status_code == 200
    assert response.json()["events"] == [] and response.json()["last_offset"] == 0
    assert 0.9 < seconds < 4


async def test_the_wait_is_capped(widget: WidgetClient, uid: str, settings: Any) -> None:
    settings.WIDGET_LONG_POLL_MAX_SECONDS = 1
    _, seconds = await poll(widget, uid, wait=600)
    assert seconds < 4


async def test_an_event_whose_broadcast_was_lost_is_found_by_the_database_recheck(
    widget: WidgetClient, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sessions.widget.views.RECHECK_SECONDS", 0.3)

    async def later() -> None:
        await asyncio.sleep(0.4)
        await database_sync_to_async(append)(uid, "Never broadcast", broadcast=False)

    (response, seconds), _ = await asyncio.gather(poll(widget, uid, wait=20), later())
    assert [event["text"] for event in response.json()["events"]] == ["Never broadcast"]
    assert seconds < 5


async def test_hidden_events_are_left_out_but_move_the_offset(widget: WidgetClient, uid: str) -> None:
    await database_sync_to_async(append)(uid, "sk-secret-value", kind=EventKind.TOOL)
    response, _ = await poll(widget, uid, wait=0)
    body = response.json()
    assert body["events"] == [] and body["last_offset"] == 1
    assert "sk-secret-value" not in response.content.decode()


async def test_a_reply_to_a_posted_message_arrives_by_long_poll(widget: WidgetClient, uid: str) -> None:
    await database_sync_to_async(widget.post)(f"sessions/{uid}/messages", {"text": "Hello"})
    response, _ = await poll(widget, uid, after=1, wait=10)
    shown = response.json()["events"]
    assert [(event["kind"], event.get("text") or event.get("status")) for event in shown][-1] == ("status", "ready")
    assert ("message", "Happy to help.") in [(event["kind"], event.get("text")) for event in shown]


async def test_many_waiting_polls_do_not_hold_a_thread_each(widget: WidgetClient, uid: str) -> None:
    started = time.monotonic()
    results = await asyncio.gather(*[poll(widget, uid, wait=1.5) for _ in range(16)])
    assert all(response.status_code == 200 for response, _ in results)
    assert time.monotonic() - started < 6  # 16 polls of 1.5 s in a pool of 8 threads would take at least 3 s each pass


async def test_another_visitors_session_answers_404(key: WidgetKey, uid: str) -> None:
    stranger = WidgetClient(key)
    await database_sync_to_async(stranger.start)()
    response, _ = await poll(stranger, uid, wait=5)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_a_poll_without_a_token_answers_401(widget: WidgetClient, uid: str) -> None:
    widget.token = None
    response, _ = await poll(widget, uid, wait=5)
    assert response.status_code == 401


async def test_a_negative_offset_answers_422(widget: WidgetClient, uid: str) -> None:
    response, _ = await poll(widget, uid, after=-1)
    assert response.status_code == 422
