"""End to end with real processes (started by tests/e2e/run_e2e.sh): log in over HTTP, open a sandbox
session on the demo agent, chat over a real websocket through daphne, Redis and a celery worker talking to
the fake OpenAI server, and check the streamed reply against what PostgreSQL stored."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_SECONDS = 90
DEMO_PASSWORD = "decorum-demo"


def base_url() -> str:
    url = os.environ.get("E2E_BASE_URL", "")
    if not url:
        pytest.fail("E2E_BASE_URL is not set: run tests/e2e/run_e2e.sh, which starts the processes")
    return url.rstrip("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the login's redirect target depends on the role; the cookie is what matters


def login_cookie(username: str, password: str) -> str:
    """Log in through the real login form; returns the Cookie header of the logged-in browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    page = opener.open(f"{base_url()}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "the login page has no CSRF token"
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)})
    request = urllib.request.Request(
        f"{base_url()}/accounts/login/", data=form.encode(), headers={"Referer": f"{base_url()}/accounts/login/"}
    )
    try:
        opener.open(request, timeout=10).read()
        raise AssertionError(f"logging in as {username} did not redirect (wrong password?)")
    except urllib.error.HTTPError as response:
        assert response.code == 302, f"logging in as {username} answered {response.code}"
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, "logging in did not set a session cookie"
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def sandbox_session_for(username: str) -> tuple[str, Any]:
    """A sandbox session on the demo agent's draft, created by `username` (who may therefore open it)."""
    from django.contrib.auth import get_user_model

    from agents.models import Agent
    from behavior.demo.seeding import DEMO_AGENT_NAME, DEMO_CUSTOMER_IDS
    from sessions.models import Customer
    from sessions.services import session_create

    agent = Agent.objects.get(name=DEMO_AGENT_NAME)
    customer = Customer.objects.get(external_id=DEMO_CUSTOMER_IDS[0])
    user = get_user_model().objects.get(username=username)
    session = session_create(agent=agent, customer=customer, source="sandbox", created_by=user, title="e2e")
    return str(session.uid), session


def socket_url(uid: str) -> str:
    return base_url().replace("http", "ws", 1) + f"/ws/sandbox/sessions/{uid}/"


async def open_socket(uid: str, cookie: str | None) -> ClientConnection:
    headers = {"Origin": base_url()}
    if cookie:
        headers["Cookie"] = cookie
    return await connect(socket_url(uid), additional_headers=headers, open_timeout=10)


async def until_ready(socket: ClientConnection, *, after_agent_message: bool) -> list[dict[str, Any]]:
    """Frames until the turn's final "ready" status (after the agent's reply)."""
    frames: list[dict[str, Any]] = []
    replied = not after_agent_message
    async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
        while True:
            frame = json.loads(await socket.recv())
            frames.append(frame)
            if frame["type"] == "error":
                raise AssertionError(f"the server sent an error frame: {frame}")
            if frame["type"] != "event":
                continue
            event = frame["event"]
            if event["kind"] == "message" and event["source"] == "agent" and not event["data"].get("preamble"):
                replied = True
            if replied and event["kind"] == "status" and event["data"].get("status") == "ready":
                return frames


async def quiet_frames(socket: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    frames = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(json.loads(await socket.recv()))
    except TimeoutError:
        return frames


def test_a_chat_over_a_real_websocket_streams_the_reply_and_stores_every_event(django_db_blocker: Any) -> None:
    from sessions.models import Event, Trace, Turn

    cookie = login_cookie("tester", DEMO_PASSWORD)
    with django_db_blocker.unblock():
        uid, session = sandbox_session_for("tester")

    async def chat() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        socket = await open_socket(uid, cookie)
        await socket.send(json.dumps({"type": "resume", "after": 0}))
        await socket.send(json.dumps({"type": "message", "text": "Hello! My bag did not arrive in Lisbon."}))
        live = await until_ready(socket, after_agent_message=True)
        await socket.close()
        # Reconnect as a client that saw offsets 1 and 2: it gets the rest, once, in order.
        again = await open_socket(uid, cookie)
        await again.send(json.dumps({"type": "resume", "after": 2}))
        replayed = await quiet_frames(again, 2.0)
        await again.close()
        return live, replayed

    live, replayed = asyncio.run(chat())

    events = [frame["event"] for frame in live if frame["type"] == "event"]
    chunks = [frame for frame in live if frame["type"] == "chunk"]
    offsets = [event["offset"] for event in events]
    assert offsets == list(range(1, len(offsets) + 1)), f"events lost, duplicated or out of order: {offsets}"
    assert events[0]["source"] == "customer"
    replies = [e for e in events if e["kind"] == "message" and e["source"] == "agent" and not e["data"].get("preamble")]
    assert len(replies) == 1
    reply = replies[0]
    assert reply["data"]["text"].strip()
    assert not any(e["data"].get("status") == "error" for e in events if e["kind"] == "status")
    streamed = "".join(chunk["text"] for chunk in chunks if chunk["message_id"] == reply["data"]["message_id"])
    assert chunks, "no chunk was streamed"
    assert streamed == reply["data"]["text"]

    with django_db_blocker.unblock():
        stored = list(
            Event.objects.filter(session=session).order_by("offset").values("offset", "kind", "source", "data")
        )
        turn = Turn.objects.get(session=session)
        assert turn.status == "done"
        assert turn.claimed_by.startswith("celery:"), "the turn was not run by the celery worker"
        assert Trace.objects.filter(turn=turn).exists()
    assert [(e["offset"], e["kind"], e["source"], e["data"]) for e in stored] == [
        (e["offset"], e["kind"], e["source"], e["data"]) for e in events
    ]
    assert [frame["event"]["offset"] for frame in replayed] == offsets[2:]


def test_an_anonymous_websocket_is_closed_with_4401(django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        uid, _session = sandbox_session_for("tester")

    async def anonymous() -> int:
        socket = await open_socket(uid, None)
        try:
            await asyncio.wait_for(socket.recv(), timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code
        raise AssertionError("the server sent a frame to an anonymous client")

    assert asyncio.run(anonymous()) == 4401


def test_another_users_websocket_is_closed_with_4403(django_db_blocker: Any) -> None:
    """An editor (behavior role, not sandbox) may not open the tester's session."""
    cookie = login_cookie("editor", DEMO_PASSWORD)
    with django_db_blocker.unblock():
        uid, _session = sandbox_session_for("tester")

    async def other() -> int:
        socket = await open_socket(uid, cookie)
        try:
            await asyncio.wait_for(socket.recv(), timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code
        raise AssertionError("the server sent a frame to a user who may not see the session")

    assert asyncio.run(other()) == 4403


def test_a_socket_left_idle_longer_than_the_redis_read_timeout_still_works(django_db_blocker: Any) -> None:
    """The channel layer blocks on Redis for up to 5 s per read: an idle consumer must survive that."""
    cookie = login_cookie("tester", DEMO_PASSWORD)
    with django_db_blocker.unblock():
        uid, _session = sandbox_session_for("tester")

    async def idle_then_chat() -> list[dict[str, Any]]:
        socket = await open_socket(uid, cookie)
        await socket.send(json.dumps({"type": "resume", "after": 0}))
        await asyncio.sleep(12)
        await socket.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert pong == {"type": "pong"}
        await socket.send(json.dumps({"type": "message", "text": "Still there?"}))
        frames = await until_ready(socket, after_agent_message=True)
        await socket.close()
        return frames

    frames = asyncio.run(idle_then_chat())

    assert any(f["type"] == "event" and f["event"]["source"] == "agent" for f in frames)
