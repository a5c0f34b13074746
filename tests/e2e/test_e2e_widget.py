"""End to end with real processes (started by tests/e2e/run_e2e.sh): a website widget conversation on the demo
agent's published version (seed_demo publishes it), with a key made by `manage.py widget_key` against the same
database. A visitor gets a token, opens a session, and chats through daphne, Redis and the celery worker: the
widget websocket streams the reply, the long-poll returns it too, a reload replays without duplicates, and an
origin that is not on the key's list is refused on HTTP and on the websocket (docs/widget.md)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.test_e2e_chat import base_url, quiet_frames

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://shop.e2e-widget.example"
OTHER_SITE = "https://evil.e2e-widget.example"
REPLY_TIMEOUT_SECONDS = 90
CUSTOMER_KINDS = {"message", "status"}
CUSTOMER_SOURCES = {"customer", "agent", "human_operator"}


@cache
def widget_key() -> dict[str, Any]:
    """The demo agent's widget key for SITE, made by the management command (the same DATABASE_URL as daphne)."""
    from behavior.demo.seeding import DEMO_AGENT_NAME

    done = subprocess.run(
        [sys.executable, "manage.py", "widget_key", DEMO_AGENT_NAME, "--origin", SITE],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"manage.py widget_key failed: {done.stderr[-2000:]}"
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["allowed_origins"] == [SITE]
    assert printed["public_key"].startswith("pk_")
    return dict(printed)


def call(
    method: str, path: str, *, origin: str | None = SITE, token: str | None = None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    """A widget request as decorum.js makes it: (status, headers, JSON body or None)."""
    headers = {"X-Decorum-Key": widget_key()["public_key"], "Content-Type": "application/json"}
    if origin is not None:
        headers["Origin"] = origin
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
    request = urllib.request.Request(f"{base_url()}/widget/v1/{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    return status, answer_headers, json.loads(raw) if raw.strip() else None


def visitor_with_session() -> tuple[str, dict[str, Any]]:
    """A new anonymous visitor's token and its new session."""
    status, _headers, visitor = call("POST", "visitor", body={"identity": None})
    assert status == 200, visitor
    assert visitor["agent"]["available"] is True, "the demo agent has no published version"
    assert visitor["session"] is None
    status, _headers, session = call("POST", "sessions", token=visitor["token"])
    assert status == 201, session
    assert session["mode"] == "auto" and session["closed"] is False
    return visitor["token"], session


def socket_url(session: dict[str, Any], *, public_key: str | None = None) -> str:
    query = urllib.parse.urlencode({"key": public_key or widget_key()["public_key"]})
    return base_url().replace("http", "ws", 1) + session["websocket"] + "?" + query


async def open_socket(session: dict[str, Any], *, origin: str = SITE) -> ClientConnection:
    return await connect(socket_url(session), additional_headers={"Origin": origin}, open_timeout=10)


async def until_reply_ready(socket: ClientConnection) -> list[dict[str, Any]]:
    """Frames until the "ready" status that follows the agent's reply."""
    frames: list[dict[str, Any]] = []
    replied = False
    async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
        while True:
            frame = json.loads(await socket.recv())
            frames.append(frame)
            if frame["type"] == "error":
                raise AssertionError(f"the server sent an error frame: {frame}")
            if frame["type"] != "event":
                continue
            event = frame["event"]
            if event["kind"] == "message" and event["source"] == "agent":
                replied = True
            if replied and event["kind"] == "status" and event["status"] == "ready":
                return frames


async def close_code(socket: ClientConnection, first_frame: dict[str, Any] | None = None) -> int:
    """The code the server closes `socket` with (after sending `first_frame`, if any)."""
    try:
        if first_frame is not None:
            await socket.send(json.dumps(first_frame))
        await asyncio.wait_for(socket.recv(), timeout=10)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection ended without a close frame"
        return closed.rcvd.code
    raise AssertionError("the server sent a frame instead of closing the socket")


def visible_stored_events(uid: str) -> list[dict[str, Any]]:
    """What PostgreSQL stored for the session, in the form a customer is sent."""
    from sessions.models import Event
    from sessions.widget.serializers import customer_event_dict

    shown = (customer_event_dict(event) for event in Event.objects.filter(session__uid=uid).order_by("offset"))
    return [event for event in shown if event is not None]


def test_a_visitor_chats_over_the_widget_websocket_and_the_reply_is_streamed_from_the_celery_worker(
    django_db_blocker: Any,
) -> None:
    from agents.models import Agent
    from behavior.demo.seeding import DEMO_AGENT_NAME
    from sessions.models import Session, Turn

    token, session = visitor_with_session()
    text = "Hello! My bag did not arrive in Lisbon."

    async def chat() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        socket = await open_socket(session)
        await socket.send(json.dumps({"type": "resume", "token": token, "after": 0}))
        status, headers, posted = await asyncio.to_thread(
            call, "POST", f"sessions/{session['uid']}/messages", token=token, body={"text": text}
        )
        assert status == 201, posted
        assert headers.get("Access-Control-Allow-Origin") == SITE
        frames = await until_reply_ready(socket)
        frames += await quiet_frames(socket, 1.5)
        await socket.close()
        return frames, posted["event"]

    frames, posted = asyncio.run(chat())

    events = [frame["event"] for frame in frames if frame["type"] == "event"]
    offsets = [event["offset"] for event in events]
    assert offsets == sorted(set(offsets)), f"events duplicated or out of order: {offsets}"
    assert all(event["kind"] in CUSTOMER_KINDS for event in events)
    assert all(event["source"] in CUSTOMER_SOURCES for event in events if event["kind"] == "message")
    assert not any("data" in event or "trace" in event for event in events), "internal fields reached the customer"
    customer = [event for event in events if event["kind"] == "message" and event["source"] == "customer"]
    assert [(event["offset"], event["text"]) for event in customer] == [(posted["offset"], text)]
    replies = [event for event in events if event["kind"] == "message" and event["source"] == "agent"]
    assert replies, "no reply reached the websocket"
    reply = replies[-1]
    assert reply["text"].strip()
    assert not any(event["status"] == "error" for event in events if event["kind"] == "status")
    chunks = [frame for frame in frames if frame["type"] == "chunk"]
    assert chunks, "no chunk was streamed"
    assert set(chunks[0]) == {"type", "message_id", "text"}
    assert "".join(chunk["text"] for chunk in chunks if chunk["message_id"] == reply["message_id"]) == reply["text"]

    with django_db_blocker.unblock():
        assert visible_stored_events(session["uid"]) == events
        stored = Session.objects.select_related("agent").get(uid=session["uid"])
        assert stored.source == "widget"
        assert stored.version_id == Agent.objects.get(name=DEMO_AGENT_NAME).published_version_id
        turn = Turn.objects.get(session=stored)
        assert turn.status == "done"
        assert turn.claimed_by.startswith("celery:"), "the turn was not run by the celery worker"


def test_the_long_poll_returns_the_reply_and_a_reload_replays_without_duplicates(django_db_blocker: Any) -> None:
    token, session = visitor_with_session()
    uid = session["uid"]
    status, _headers, posted = call("POST", f"sessions/{uid}/messages", token=token, body={"text": "Hello there"})
    assert status == 201, posted

    # The widget's fallback: long-poll from the last offset seen until the reply and its "ready" arrive.
    polled: list[dict[str, Any]] = []
    after, replied, ready = posted["event"]["offset"], False, False
    for _ in range(8):
        status, headers, page = call("GET", f"sessions/{uid}/events?after={after}&wait=25", token=token)
        assert status == 200, page
        assert headers.get("Access-Control-Allow-Origin") == SITE
        assert all(event["offset"] > after for event in page["events"])
        polled += page["events"]
        after = page["last_offset"]
        replied = replied or any(e["kind"] == "message" and e["source"] == "agent" for e in polled)
        ready = replied and any(e["kind"] == "status" and e["status"] == "ready" for e in polled)
        if ready:
            break
    assert ready, f"the long-poll never returned the reply: {polled}"
    reply = next(e for e in polled if e["kind"] == "message" and e["source"] == "agent")
    assert reply["text"].strip()
    assert page["session"]["uid"] == uid

    with django_db_blocker.unblock():
        stored = visible_stored_events(uid)
    assert [posted["event"], *polled] == [event for event in stored if event["offset"] >= posted["event"]["offset"]]

    # A reload: a new websocket that saw the customer's message gets the rest, once, in order; then a new
    # message over the socket and its reply come live, still without a repeat.
    async def reload() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        socket = await open_socket(session)
        await socket.send(json.dumps({"type": "resume", "token": token, "after": posted["event"]["offset"]}))
        replayed = await quiet_frames(socket, 2.0)
        await socket.send(json.dumps({"type": "message", "text": "Thanks, and what about a refund?"}))
        live = await until_reply_ready(socket)
        live += await quiet_frames(socket, 1.0)
        await socket.close()
        return replayed, live

    replayed, live = asyncio.run(reload())

    replayed_events = [frame["event"] for frame in replayed if frame["type"] == "event"]
    assert replayed_events == [event for event in stored if event["offset"] > posted["event"]["offset"]]
    offsets = [frame["event"]["offset"] for frame in replayed + live if frame["type"] == "event"]
    assert offsets == sorted(set(offsets)), f"the reload repeated or reordered events: {offsets}"
    with django_db_blocker.unblock():
        everything = visible_stored_events(uid)
    assert [event["offset"] for event in everything if event["offset"] > posted["event"]["offset"]] == offsets
    assert any(e["kind"] == "message" and e["source"] == "agent" for e in everything if e["offset"] > offsets[0])


def test_an_origin_not_on_the_keys_list_is_refused_on_http_and_on_the_websocket() -> None:
    for origin in (OTHER_SITE, None):
        status, headers, body = call("POST", "visitor", origin=origin, body={"identity": None})
        assert (status, body["code"]) == (403, "origin_refused"), (origin, status, body)
        assert "Access-Control-Allow-Origin" not in headers
    token, session = visitor_with_session()
    status, headers, body = call("GET", f"sessions/{session['uid']}/", origin=OTHER_SITE, token=token)
    assert (status, body["code"]) == (403, "origin_refused")
    assert "Access-Control-Allow-Origin" not in headers
    preflight = urllib.request.Request(
        f"{base_url()}/widget/v1/visitor",
        method="OPTIONS",
        headers={"Origin": OTHER_SITE, "Access-Control-Request-Method": "POST"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(preflight, timeout=10)
    assert refused.value.code == 403
    assert "Access-Control-Allow-Origin" not in refused.value.headers

    async def sockets() -> tuple[int, int, int, int]:
        other_origin = await close_code(
            await open_socket(session, origin=OTHER_SITE), {"type": "resume", "token": token, "after": 0}
        )
        unknown_key = await close_code(
            await connect(
                socket_url(session, public_key="pk_unknown"), additional_headers={"Origin": SITE}, open_timeout=10
            )
        )
        forged = await close_code(await open_socket(session), {"type": "resume", "token": token + "x", "after": 0})
        other_token, _other_session = await asyncio.to_thread(visitor_with_session)
        not_theirs = await close_code(await open_socket(session), {"type": "resume", "token": other_token, "after": 0})
        return other_origin, unknown_key, forged, not_theirs

    assert asyncio.run(sockets()) == (4403, 4403, 4401, 4403)


def test_a_visitor_token_cannot_read_another_visitors_session() -> None:
    _token, session = visitor_with_session()
    other_token, _other = visitor_with_session()

    status, _headers, body = call("GET", f"sessions/{session['uid']}/events?after=0", token=other_token)

    assert (status, body["code"]) == (404, "not_found")
