"""Realtime benchmark: concurrent sandbox chats over real websockets through daphne, Redis and celery workers,
against the fake OpenAI server with a fixed latency (docs/architecture.md §2 and §10, issue 4).

    python bench/realtime_bench.py                      # starts everything; 50 then 200 sessions
    python bench/realtime_bench.py --sessions 20 --messages 2 --workers 2 --concurrency 30
    python bench/realtime_bench.py --mode widget --sessions 1,20 --messages 3   # website widget visitors

`--mode sandbox` (the default): logged-in testers on sandbox sessions. `--mode widget`: every simulated customer
is a website widget visitor (docs/widget.md): POST /widget/v1/visitor with the key and an allowed Origin, POST
/widget/v1/sessions (a session on the published version), the widget websocket (`?key=`, Origin, a resume
frame with the customer token), then its messages, sent with POST …/messages as decorum.js does (or as socket
frames with --widget-send socket). The widget mode also reports the setup times (visitor, session, connect).

For every turn it measures, on the client: the time from sending the message to the first streamed chunk
(time to first token) and to the turn's final "ready" status (turn latency); from the turn's stored trace:
the time the engine waited on the model. Platform overhead = turn latency - model wait: everything that is
not the LLM (queueing, the celery hand-off, the database, broadcasting, daphne, the engine itself). It also
checks every session's event stream against the database: events lost or duplicated (must be 0).

It starts a throwaway PostgreSQL database (dropped at the end), uses Redis db 13 (flushed), the fake OpenAI
server, N celery workers (thread pool) and one daphne; only processes it started are stopped. Prints a
table and writes JSON to bench/out/. With --base-url it uses running processes instead (DATABASE_URL must
point at their database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inprocess import percentile
from bench.realtime_stack import ROOT, Stack, stack_start

OUT_DIR = ROOT / "bench" / "out"
BENCH_USER = "bench-tester"
BENCH_PASSWORD = "bench-password-123"  # a throwaway user of a throwaway database
BENCH_AGENT = "Realtime Bench"
WIDGET_ORIGIN = "https://bench-site.example"  # the website the simulated widget visitors are on

# A small agent that stays on the single-pass strategy (one LLM hop): five guidelines, a glossary term.
SMALL_AGENT_DOCUMENT: dict[str, Any] = {
    "format": "decorum.behavior",
    "schema_version": 1,
    "agent": {
        "name": BENCH_AGENT,
        "description": "You are a concise airline support assistant.",
        "model": "fake-model",
        "temperature": 0.2,
        "composition_mode": "fluid",
        "preamble": False,
    },
    "tags": [],
    "guidelines": [
        {"key": "greet", "condition": "The customer greets the agent", "action": "Greet them back briefly"},
        {
            "key": "lost-bag",
            "condition": "The customer reports a lost bag",
            "action": "Apologise and ask for the tag number",
        },
        {"key": "refund", "condition": "The customer asks for a refund", "action": "Explain the refund policy"},
        {"key": "delay", "condition": "The customer's flight is delayed", "action": "Offer rebooking options"},
        {"key": "thanks", "condition": "The customer says thank you", "action": "Wish them a good trip"},
    ],
    "relationships": [],
    "journeys": [],
    "glossary": [{"name": "PIR", "synonyms": ["property irregularity report"], "description": "A lost-bag report."}],
    "context_variables": [],
    "canned_responses": [],
    "tool_services": [],
    "tools": [],
}

MESSAGES = [
    "Hello! My bag did not arrive in Lisbon.",
    "The tag number is SK123456, can you check?",
    "Thanks, and could I get a refund for the delay?",
    "One more thing: is my connecting flight delayed?",
]


# ---------------------------------------------------------------- the world (ORM in this process)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_agent(agent_choice: str) -> Any:
    """The demo agent (seeded) or the small bench agent (imported once)."""
    from agents.models import Agent
    from behavior.services import agent_import_document
    from behavior.services.audit import SYSTEM

    if agent_choice == "demo":
        from behavior.demo.seeding import DEMO_AGENT_NAME, demo_seed

        demo_seed()
        return Agent.objects.get(name=DEMO_AGENT_NAME)
    return Agent.objects.filter(name=BENCH_AGENT).first() or agent_import_document(SMALL_AGENT_DOCUMENT, actor=SYSTEM)


def world_prepare(agent_choice: str, count: int, *, run_on: str) -> list[str]:
    """The bench user (a tester), the agent, and `count` fresh sandbox sessions on the agent's draft or its
    published version; returns their uids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from behavior.services.audit import SYSTEM
    from sessions.services import customer_create, session_create

    user, created = get_user_model().objects.get_or_create(username=BENCH_USER)
    if created:
        user.set_password(BENCH_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get_or_create(name="tester")[0])
    agent = bench_agent(agent_choice)
    version = None
    if run_on == "published":
        from behavior.services import version_publish

        agent.refresh_from_db()
        version = agent.published_version or version_publish(agent, actor=SYSTEM, note="bench")
    uids = []
    for number in range(count):
        customer = customer_create(name=f"Bench customer {number}")
        session = session_create(
            agent=agent, customer=customer, source="sandbox", created_by=user, title="bench", version=version
        )
        uids.append(str(session.uid))
    return uids


def widget_world_prepare(agent_choice: str, origin: str) -> str:
    """The agent with a published version (published once) and a widget key that allows `origin`; returns the
    key's public key. Sessions are opened by the visitors themselves, over HTTP."""
    from agents.widget_keys import widget_key_create, widget_key_for_agent, widget_key_update
    from behavior.services import version_publish
    from behavior.services.audit import SYSTEM

    agent = bench_agent(agent_choice)
    agent.refresh_from_db()
    if agent.published_version_id is None:
        version_publish(agent, actor=SYSTEM, note="bench (widget)")
    key = widget_key_for_agent(agent) or widget_key_create(agent=agent, actor=SYSTEM)
    origins = sorted({*(key.allowed_origins or []), origin})
    key = widget_key_update(key, allowed_origins=origins, enforce_identity=False, enabled=True, actor=SYSTEM)
    return str(key.public_key)


def turns_from_database(uids: list[str]) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (session uid, trigger offset): status, the trace's model wait and engine overhead, and where the
    server-side time went: queue (message stored → claimed), prepare (claimed → engine start: snapshot,
    history), engine (the engine's wall time), finish (engine end → "ready" stored)."""
    from sessions.models import Event, Trace, Turn

    rows: dict[tuple[str, int], dict[str, Any]] = {}
    turns = Turn.objects.filter(session__uid__in=uids).select_related("session", "trigger_event")
    traces = {trace.turn_id: trace.data for trace in Trace.objects.filter(turn__in=turns)}
    ready_at = dict(
        Event.objects.filter(turn__in=turns, kind="status", data__status="ready").values_list("turn_id", "created_at")
    )
    for turn in turns:
        trace = traces.get(turn.pk) or {}
        timings = trace.get("timings") or {}
        stored_at = turn.trigger_event.created_at
        started = trace.get("turn", {}).get("started_at")
        engine_start = datetime.fromisoformat(started) if started else None
        wall = timings.get("wall_ms")

        def between(start: Any, end: Any) -> float | None:
            return round((end - start).total_seconds() * 1000, 1) if start and end else None

        finish = None
        if engine_start and wall is not None and turn.pk in ready_at:
            finish = round(between(engine_start, ready_at[turn.pk]) - wall, 1)
        rows[(str(turn.session.uid), turn.trigger_event.offset)] = {
            "status": turn.status,
            "attempts": turn.attempts,
            "llm_wait_ms": timings.get("llm_wait_ms"),
            "engine_overhead_ms": timings.get("overhead_ms"),
            "queue_ms": between(stored_at, turn.claimed_at),
            "prepare_ms": between(turn.claimed_at, engine_start),
            "engine_wall_ms": wall,
            "finish_ms": finish,
            "server_ms": between(stored_at, ready_at.get(turn.pk)),
            "stored_at": stored_at.timestamp(),
            "ready_at": ready_at[turn.pk].timestamp() if turn.pk in ready_at else None,
            "hops": trace.get("turn", {}).get("hops"),
            "llm_calls": trace.get("turn", {}).get("llm_calls"),
        }
    return rows


def offsets_in_database(uids: list[str], *, customer_view: bool = False) -> dict[str, list[int]]:
    """Every stored offset per session; with `customer_view`, only those a widget customer is sent."""
    from sessions.models import Event

    stored: dict[str, list[int]] = {uid: [] for uid in uids}
    events = Event.objects.filter(session__uid__in=uids).order_by("offset")
    if customer_view:
        from sessions.widget.serializers import customer_event_dict

        for event in events.select_related("session"):
            if customer_event_dict(event) is not None:
                stored[str(event.session.uid)].append(event.offset)
        return stored
    for uid, offset in events.values_list("session__uid", "offset"):
        stored[str(uid)].append(offset)
    return stored


# ---------------------------------------------------------------- clients


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login_cookie(base_url: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    page = opener.open(f"{base_url}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = urllib.parse.urlencode(
        {"username": BENCH_USER, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    )
    with contextlib.suppress(urllib.error.HTTPError):  # the 302 after a successful login
        opener.open(urllib.request.Request(f"{base_url}/accounts/login/", data=form.encode()), timeout=10)
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError("logging in failed")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


@dataclass
class TurnSample:
    session: str
    trigger_offset: int
    latency_ms: float
    first_token_ms: float | None
    chunks: int
    sent_at: float  # wall clock (time.time()), comparable with the server's timestamps on this machine
    ready_received_at: float


@dataclass
class SessionResult:
    uid: str
    received: list[int] = field(default_factory=list)
    turns: list[TurnSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    setup_ms: dict[str, float] = field(default_factory=dict)  # widget mode: visitor, session, connect


async def session_run(
    base_url: str, cookie: str, uid: str, messages: int, start: asyncio.Event, turn_timeout: float
) -> SessionResult:
    from websockets.asyncio.client import connect

    result = SessionResult(uid=uid)
    url = base_url.replace("http", "ws", 1) + f"/ws/sandbox/sessions/{uid}/"
    try:
        async with connect(
            url, additional_headers={"Cookie": cookie, "Origin": base_url}, open_timeout=60, max_queue=None
        ) as socket:
            await socket.send(json.dumps({"type": "resume", "after": 0}))
            await start.wait()
            for number in range(messages):
                text = MESSAGES[number % len(MESSAGES)]
                sent, sent_at = time.perf_counter(), time.time()
                await socket.send(json.dumps({"type": "message", "text": text}))
                trigger, first_chunk, chunks, replied = None, None, 0, False
                async with asyncio.timeout(turn_timeout):
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "chunk":
                            chunks += 1
                            first_chunk = first_chunk or time.perf_counter()
                            continue
                        if frame["type"] == "error":
                            result.errors.append(f"{frame['code']}: {frame['message']}")
                            break
                        event = frame["event"]
                        result.received.append(event["offset"])
                        if event["source"] == "customer" and event["data"].get("text") == text and trigger is None:
                            trigger = event["offset"]
                        if (
                            event["kind"] == "message"
                            and event["source"] == "agent"
                            and not event["data"].get("preamble")
                        ):
                            replied = True
                        if event["kind"] == "status" and event["data"].get("status") == "error":
                            result.errors.append(f"error event: {event['data'].get('message')}")
                        if replied and event["kind"] == "status" and event["data"].get("status") == "ready":
                            break
                done, ready_received_at = time.perf_counter(), time.time()
                result.turns.append(
                    TurnSample(
                        session=uid,
                        trigger_offset=trigger or -1,
                        latency_ms=(done - sent) * 1000,
                        first_token_ms=(first_chunk - sent) * 1000 if first_chunk else None,
                        chunks=chunks,
                        sent_at=sent_at,
                        ready_received_at=ready_received_at,
                    )
                )
            # Anything still in flight (there should be nothing after "ready").
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "event":
                            result.received.append(frame["event"]["offset"])
    except Exception as error:
        result.errors.append(f"{type(error).__name__}: {error}")
    return result


async def scenario_run(
    base_url: str, cookie: str, uids: list[str], messages: int, turn_timeout: float
) -> tuple[list[SessionResult], float]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(session_run(base_url, cookie, uid, messages, start, turn_timeout)) for uid in uids]
    await asyncio.sleep(min(30.0, 1.0 + len(uids) * 0.05))  # let every socket connect and resume first
    began = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return list(results), time.perf_counter() - began


# ---------------------------------------------------------------- widget clients


class WidgetRefused(Exception):
    """A widget endpoint answered with an error status."""


def widget_http(
    base_url: str, method: str, path: str, *, key: str, token: str | None = None, body: Any = None
) -> dict[str, Any]:
    """One widget request as decorum.js sends it (key header, the site's Origin, the customer token); the JSON
    answer. Blocking: the bench runs it on its thread pool."""
    headers = {"X-Decorum-Key": key, "Origin": WIDGET_ORIGIN, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
    request = urllib.request.Request(f"{base_url}/widget/v1/{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return dict(json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        raise WidgetRefused(f"{method} {path}: {error.code} {error.read()[:200]!r}") from None


async def widget_session_run(
    base_url: str,
    key: str,
    messages: int,
    ready: asyncio.Queue[bool],
    start: asyncio.Event,
    turn_timeout: float,
    send: str,
    executor: Any,
) -> SessionResult:
    """A website visitor: a token, a session, the widget websocket, then `messages` messages, each waiting for
    the reply's "ready". Puts True (or False on a failed setup) on `ready` before waiting for `start`."""
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()

    def http(method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        return loop.run_in_executor(
            executor, lambda: widget_http(base_url, method, path, key=key, token=token, body=body)
        )

    result = SessionResult(uid="")
    announced = False
    try:
        began = time.perf_counter()
        visitor = await http("POST", "visitor", body={"identity": None})
        token = visitor["token"]
        result.setup_ms["visitor"] = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        session = await http("POST", "sessions", token=token)
        result.uid = session["uid"]
        result.setup_ms["session"] = (time.perf_counter() - began) * 1000
        url = base_url.replace("http", "ws", 1) + session["websocket"] + "?" + urllib.parse.urlencode({"key": key})
        began = time.perf_counter()
        async with connect(
            url, additional_headers={"Origin": WIDGET_ORIGIN}, open_timeout=60, max_queue=None
        ) as socket:
            await socket.send(json.dumps({"type": "resume", "token": token, "after": 0}))
            result.setup_ms["connect"] = (time.perf_counter() - began) * 1000
            announced = True
            await ready.put(True)
            await start.wait()
            for number in range(messages):
                text = MESSAGES[number % len(MESSAGES)]
                sent, sent_at = time.perf_counter(), time.time()
                posting = None
                if send == "post":
                    posting = asyncio.ensure_future(
                        http("POST", f"sessions/{result.uid}/messages", token=token, body={"text": text})
                    )
                else:
                    await socket.send(json.dumps({"type": "message", "text": text}))
                trigger, first_chunk, chunks, replied = None, None, 0, False
                async with asyncio.timeout(turn_timeout):
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "chunk":
                            chunks += 1
                            first_chunk = first_chunk or time.perf_counter()
                            continue
                        if frame["type"] == "error":
                            result.errors.append(f"{frame['code']}: {frame['message']}")
                            break
                        if frame["type"] != "event":
                            continue
                        event = frame["event"]
                        result.received.append(event["offset"])
                        if event["kind"] == "message":
                            if event["source"] == "customer" and event["text"] == text and trigger is None:
                                trigger = event["offset"]
                            if event["source"] == "agent":
                                replied = True
                        elif event["status"] == "error":
                            result.errors.append("error event")
                        elif replied and event["status"] == "ready":
                            break
                done, ready_received_at = time.perf_counter(), time.time()
                if posting is not None:
                    posted = await posting
                    trigger = trigger or posted["event"]["offset"]
                result.turns.append(
                    TurnSample(
                        session=result.uid,
                        trigger_offset=trigger or -1,
                        latency_ms=(done - sent) * 1000,
                        first_token_ms=(first_chunk - sent) * 1000 if first_chunk else None,
                        chunks=chunks,
                        sent_at=sent_at,
                        ready_received_at=ready_received_at,
                    )
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "event":
                            result.received.append(frame["event"]["offset"])
    except Exception as error:
        result.errors.append(f"{type(error).__name__}: {error}")
    finally:
        if not announced:
            await ready.put(False)
    return result


async def widget_scenario_run(
    base_url: str, key: str, count: int, messages: int, turn_timeout: float, send: str
) -> tuple[list[SessionResult], float]:
    """`count` visitors set up at once; the messages start when every one of them is connected (or failed)."""
    from concurrent.futures import ThreadPoolExecutor

    start = asyncio.Event()
    ready: asyncio.Queue[bool] = asyncio.Queue()
    with ThreadPoolExecutor(max_workers=max(4, min(count, 200)), thread_name_prefix="widget-http") as executor:
        tasks = [
            asyncio.create_task(widget_session_run(base_url, key, messages, ready, start, turn_timeout, send, executor))
            for _ in range(count)
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(60.0, count * 0.5)):
                for _ in range(count):
                    await ready.get()
        await asyncio.sleep(0.5)  # the last resume frames are processed
        began = time.perf_counter()
        start.set()
        results = await asyncio.gather(*tasks)
        return list(results), time.perf_counter() - began


# ---------------------------------------------------------------- report


def scenario_report(
    sessions: int,
    results: list[SessionResult],
    turns: dict[tuple[str, int], dict[str, Any]],
    stored: dict[str, list[int]],
    wall: float,
) -> dict[str, Any]:
    samples = [sample for result in results for sample in result.turns]
    latencies = [s.latency_ms for s in samples]
    first_tokens = [s.first_token_ms for s in samples if s.first_token_ms is not None]
    overheads, llm_waits, engine, queue = [], [], [], []
    phases: dict[str, list[float]] = {"prepare_ms": [], "engine_wall_ms": [], "finish_ms": [], "server_ms": []}
    hops: Counter[Any] = Counter()
    delivery, posting, ready_delivery = [], [], []
    statuses: Counter[str] = Counter()
    for sample in samples:
        row = turns.get((sample.session, sample.trigger_offset))
        if row is None:
            statuses["unmatched"] += 1
            continue
        statuses[row["status"]] += 1
        if row["llm_wait_ms"] is not None:
            llm_waits.append(row["llm_wait_ms"])
            overheads.append(sample.latency_ms - row["llm_wait_ms"])
        if row["engine_overhead_ms"] is not None:
            engine.append(row["engine_overhead_ms"])
        if row["queue_ms"] is not None:
            queue.append(row["queue_ms"])
        for name, values in phases.items():
            if row.get(name) is not None:
                values.append(row[name])
        if row.get("server_ms") is not None:
            delivery.append(sample.latency_ms - row["server_ms"])
        posting.append(1000 * (row["stored_at"] - sample.sent_at))
        if row.get("ready_at") is not None:
            ready_delivery.append(1000 * (sample.ready_received_at - row["ready_at"]))
        hops[row.get("hops")] += 1
    lost = duplicated = 0
    for result in results:
        counts = Counter(result.received)
        duplicated += sum(count - 1 for count in counts.values() if count > 1)
        lost += len(set(stored.get(result.uid, [])) - set(counts))
    out_of_order = sum(1 for result in results if result.received != sorted(set(result.received)))
    setup = {
        step: [result.setup_ms[step] for result in results if step in result.setup_ms]
        for step in ("visitor", "session", "connect")
    }
    extra: dict[str, Any] = {}
    if any(setup.values()):
        extra["widget_setup_ms"] = {
            step: {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95)} for step, values in setup.items()
        }
    return {
        "sessions": sessions,
        "turns": len(samples),
        "turn_statuses": dict(statuses),
        "errors": sum(len(result.errors) for result in results),
        "error_examples": [e for result in results for e in result.errors][:5],
        "wall_seconds": round(wall, 2),
        "turns_per_second": round(len(samples) / wall, 2) if wall else None,
        "latency_ms": {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "max": percentile(latencies, 1.0),
        },
        "llm_wait_ms": {"p50": percentile(llm_waits, 0.5), "p95": percentile(llm_waits, 0.95)},
        "platform_overhead_ms": {"p50": percentile(overheads, 0.5), "p95": percentile(overheads, 0.95)},
        "first_token_ms": {"p50": percentile(first_tokens, 0.5), "p95": percentile(first_tokens, 0.95)},
        "queue_wait_ms": {"p50": percentile(queue, 0.5), "p95": percentile(queue, 0.95)},
        "engine_overhead_ms": {"p50": percentile(engine, 0.5), "p95": percentile(engine, 0.95)},
        "server_phases_ms_p50": {name: percentile(values, 0.5) for name, values in phases.items()},
        "client_minus_server_ms": {"p50": percentile(delivery, 0.5), "p95": percentile(delivery, 0.95)},
        "post_ms": {"p50": percentile(posting, 0.5), "p95": percentile(posting, 0.95)},
        "ready_delivery_ms": {"p50": percentile(ready_delivery, 0.5), "p95": percentile(ready_delivery, 0.95)},
        "llm_hops": {str(key): count for key, count in hops.items()},
        "events_lost": lost,
        "events_duplicated": duplicated,
        "sessions_out_of_order": out_of_order,
        "mean_chunks_per_reply": round(statistics.mean([s.chunks for s in samples]), 1) if samples else 0,
        **extra,
    }


def table(reports: list[dict[str, Any]]) -> str:
    columns = [
        ("sessions", lambda r: r["sessions"]),
        ("turns", lambda r: r["turns"]),
        ("errors", lambda r: r["errors"]),
        ("latency p50/p95", lambda r: f"{r['latency_ms']['p50']}/{r['latency_ms']['p95']}"),
        ("LLM wait p50", lambda r: r["llm_wait_ms"]["p50"]),
        ("overhead p50/p95", lambda r: f"{r['platform_overhead_ms']['p50']}/{r['platform_overhead_ms']['p95']}"),
        ("queue p50/p95", lambda r: f"{r['queue_wait_ms']['p50']}/{r['queue_wait_ms']['p95']}"),
        ("engine p50", lambda r: r["engine_overhead_ms"]["p50"]),
        ("TTFT p50/p95", lambda r: f"{r['first_token_ms']['p50']}/{r['first_token_ms']['p95']}"),
        ("lost", lambda r: r["events_lost"]),
        ("dup", lambda r: r["events_duplicated"]),
        ("turns/s", lambda r: r["turns_per_second"]),
    ]
    rows = [[name for name, _ in columns]] + [[str(get(report)) for _, get in columns] for report in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n(all times in ms; overhead = client-measured turn latency - the engine's LLM wait)"


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--mode",
        default="sandbox",
        choices=["sandbox", "widget"],
        help="sandbox: logged-in testers on sandbox sessions; widget: website visitors through /widget/v1/",
    )
    parser.add_argument(
        "--widget-send",
        default="post",
        choices=["post", "socket"],
        help="widget mode: send messages with POST …/messages (as decorum.js) or as websocket frames",
    )
    parser.add_argument("--sessions", default="50,200", help="comma-separated concurrent session counts")
    parser.add_argument("--messages", type=int, default=3, help="messages per session (each waits for the reply)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument(
        "--concurrency", type=int, default=30, help="turns per worker process (each holds a DB connection)"
    )
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--llm-latency-ms", type=float, default=300.0, help="fixed time per model call")
    parser.add_argument("--ms-per-10-completion-tokens", type=float, default=10.0, help="streaming pace")
    parser.add_argument("--agent", default="small", choices=["small", "demo"])
    parser.add_argument(
        "--run-on",
        default="draft",
        choices=["draft", "published"],
        help="sandbox mode: the draft (exported every turn) or the published version (cached, as the widget/API); "
        "the widget mode always runs on the published version",
    )
    parser.add_argument("--turn-timeout", type=float, default=180.0)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379"))
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--base-url", help="use running daphne/workers at this URL (DATABASE_URL must be set)")
    parser.add_argument("--out", default=str(OUT_DIR))
    arguments = parser.parse_args(argv)
    counts = [int(value) for value in arguments.sessions.split(",") if value.strip()]
    if arguments.mode == "widget":
        arguments.run_on = "published"  # a widget session always runs the published version

    stack = Stack()
    log_dir = Path(tempfile.mkdtemp(prefix="decorum-bench-"))
    reports: list[dict[str, Any]] = []
    try:
        base_url = arguments.base_url.rstrip("/") if arguments.base_url else stack_start(arguments, stack, log_dir)
        django_setup()
        widget = arguments.mode == "widget"
        public_key = widget_world_prepare(arguments.agent, WIDGET_ORIGIN) if widget else ""
        for count in counts:
            print(f"scenario ({arguments.mode}): {count} sessions x {arguments.messages} messages ...", flush=True)
            if widget:
                cpu_before, client_before = stack.cpu_seconds(), time.process_time()
                results, wall = asyncio.run(
                    widget_scenario_run(
                        base_url,
                        public_key,
                        count,
                        arguments.messages,
                        arguments.turn_timeout,
                        arguments.widget_send,
                    )
                )
                uids = [result.uid for result in results if result.uid]
            else:
                uids = world_prepare(arguments.agent, count, run_on=arguments.run_on)
                cookie = login_cookie(base_url)
                cpu_before, client_before = stack.cpu_seconds(), time.process_time()
                results, wall = asyncio.run(
                    scenario_run(base_url, cookie, uids, arguments.messages, arguments.turn_timeout)
                )
            time.sleep(1.0)  # the last traces are written right after "ready"
            cpu_after, client_cpu = stack.cpu_seconds(), time.process_time() - client_before
            stored = offsets_in_database(uids, customer_view=widget)
            report = scenario_report(count, results, turns_from_database(uids), stored, wall)
            turns_done = max(1, report["turns"])
            cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
            cpu["bench_client"] = client_cpu
            report["cpu_ms_per_turn"] = {
                name: round(1000 * value / turns_done, 1) for name, value in sorted(cpu.items())
            }
            reports.append(report)
            print(table([report]), flush=True)
            print(
                f"server phases p50 (ms): {report['server_phases_ms_p50']}; client minus server: "
                f"{report['client_minus_server_ms']} = post {report['post_ms']} + delivery of ready "
                f"{report['ready_delivery_ms']}; LLM hops: {report['llm_hops']}\n"
                f"CPU ms per turn: {report['cpu_ms_per_turn']}",
                flush=True,
            )
            if "widget_setup_ms" in report:
                print(f"widget setup (ms): {report['widget_setup_ms']}", flush=True)
    except Exception:
        for log in stack.logs:
            print(
                f"----- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr
            )
        print(f"(process logs kept in {log_dir})", file=sys.stderr)
        raise
    finally:
        stack.stop()
    shutil.rmtree(log_dir, ignore_errors=True)

    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "config": {key: value for key, value in vars(arguments).items() if key not in {"postgres", "redis"}},
        "scenarios": reports,
    }
    OUT = Path(arguments.out)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"realtime_{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(summary, indent=2))
    print("\n" + table(reports))
    print(f"\nJSON: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    bad = [r for r in reports if r["events_lost"] or r["events_duplicated"] or r["errors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
