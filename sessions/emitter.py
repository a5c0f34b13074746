"""The engine's Emitter and Cancellation ports for one turn: statuses, final messages and tool events are
stored as session events and broadcast after commit; message chunks are broadcast only; the trace is a
Trace row. Database work runs on the turn's own database thread, in emission order."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connections, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper
from django.utils import timezone

from sessions.broadcast import chunk_broadcast, event_broadcast_on_commit, thread_loop_bind
from sessions.models import HUMAN_MODES, Event, EventKind, EventSource, Session, Trace, Turn, TurnStatus
from sessions.services.core import EVENT_DATA_MAX_BYTES, event_append

ResultT = TypeVar("ResultT")

CHUNK_CANCEL_CHECK_SECONDS = 0.5
# Chunks arriving faster than this are sent together: the first goes out at once (time to first token),
# then at most one broadcast per window, instead of one per token.
CHUNK_COALESCE_SECONDS = 0.05


class TurnDatabase:
    """One database thread per turn: the turn's event loop never touches the ORM itself (Django forbids
    that), and a single thread keeps the emitted events in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="turn-db", initializer=thread_loop_bind, initargs=(loop,)
        )

    async def run(self, function: Callable[..., ResultT], *args: Any, **kwargs: Any) -> ResultT:
        return await self._loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    async def close(self) -> None:
        try:
            await self.run(_connections_close)
        finally:
            self._executor.shutdown(wait=False)


def _connections_close() -> None:
    thread_loop_bind(None)
    connections.close_all()


def turn_superseded(turn: Turn) -> bool:
    """True when this turn must not reply: a newer customer message exists, a human operator took the
    session over, or the turn is no longer running (superseded, or failed by the sweep as presumed dead)."""
    row = Session.objects.filter(pk=turn.session_id).annotate(stopped=_turn_stopped(turn)).values("mode", "stopped")
    found = row.first()
    return found is None or found["mode"] in HUMAN_MODES or bool(found["stopped"])


def session_lock_unless_superseded(turn: Turn) -> Session | None:
    """Lock the turn's session row and return it, or None when the turn must not reply (see
    turn_superseded): one query, so an event can be appended under the same lock as the check."""
    row = Session.objects.select_for_update().filter(pk=turn.session_id).annotate(stopped=_turn_stopped(turn)).first()
    if row is None or row.mode in HUMAN_MODES or row.stopped:
        return None
    return row


def _turn_stopped(turn: Turn) -> Any:
    newer_customer_message = Event.objects.filter(
        session_id=turn.session_id,
        kind=EventKind.MESSAGE,
        source=EventSource.CUSTOMER,
        offset__gt=turn.trigger_event.offset,
    )
    still_running = Turn.objects.filter(pk=turn.pk, status=TurnStatus.RUNNING)
    return ExpressionWrapper(Exists(newer_customer_message) | ~Exists(still_running), output_field=BooleanField())


def _json_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain JSON within the event size limit; an oversized payload keeps its small fields and says so."""
    safe = json.loads(json.dumps(dict(data), default=str))
    if len(json.dumps(safe, separators=(",", ":"), ensure_ascii=False).encode()) <= EVENT_DATA_MAX_BYTES - 512:
        return safe
    small = {
        key: value
        for key, value in safe.items()
        if len(json.dumps(value, ensure_ascii=False).encode()) <= 1024 and key != "truncated"
    }
    small["truncated"] = True
    return small


class TurnCancellation:
    """The Cancellation port: a newer customer message, a superseded status or a human takeover."""

    def __init__(self, *, turn: Turn, database: TurnDatabase) -> None:
        self.turn = turn
        self.database = database
        self.cancelled = False

    async def is_cancelled(self) -> bool:
        if not self.cancelled:
            self.cancelled = await self.database.run(self._check)
        return self.cancelled

    def _check(self) -> bool:
        return turn_superseded(self.turn)


class SessionEmitter:
    """The Emitter port for one turn. Every stored event is appended under the session lock after checking
    the turn is still current, so a superseded turn stores and broadcasts nothing more."""

    def __init__(self, *, turn: Turn, session: Session, database: TurnDatabase, cancellation: TurnCancellation) -> None:
        self.turn = turn
        self.session_uid = session.uid
        self.session_id = session.pk
        self.database = database
        self.cancellation = cancellation
        self.events: list[Event] = []
        self.messages: list[str] = []
        self.error_statuses: list[str] = []
        self.trace_stored = False
        self.ready_requested = False
        self.chunks_sent = 0
        self._held: list[tuple[str, dict[str, Any]]] = []
        self._last_cancel_check = time.monotonic()
        self._pending_chunk: tuple[str, str] | None = None  # (message id, text) not sent yet
        self._last_chunk_sent = 0.0
        self._chunk_timer: asyncio.Task[None] | None = None
        self._chunk_lock = asyncio.Lock()

    # ------------------------------------------------------------ the port

    async def status(self, status: str, *, detail: Mapping[str, Any] | None = None) -> None:
        # "ready" is emitted once by the turn runner after the turn's state is stored, so a client that sees
        # it can rely on everything before it being final.
        await self.chunks_settle()
        if status == "ready":
            self.ready_requested = True
            return
        data: dict[str, Any] = {**(dict(detail) if detail else {}), "status": status}
        if status == "error":
            self.error_statuses.append(str(data.get("message") or ""))
            if not data.get("message"):
                # The engine reports the cause in the trace, which comes last: hold the error (and what
                # follows it) until then, so the stored error says what went wrong.
                self._held.append((EventKind.STATUS, data))
                return
        await self._append(kind=EventKind.STATUS, data=data)

    async def message_chunk(self, *, message_id: str, text: str) -> None:
        if not text or self.cancellation.cancelled:
            return
        # A newer customer message stops the stream within CHUNK_CANCEL_CHECK_SECONDS, not only at the end.
        now = time.monotonic()
        if now - self._last_cancel_check >= CHUNK_CANCEL_CHECK_SECONDS:
            self._last_cancel_check = now
            if await self.cancellation.is_cancelled():
                return
        if self._pending_chunk is not None and self._pending_chunk[0] != message_id:
            await self.chunks_flush()
        pending = self._pending_chunk[1] if self._pending_chunk is not None else ""
        self._pending_chunk = (message_id, pending + text)
        wait = CHUNK_COALESCE_SECONDS - (now - self._last_chunk_sent)
        if wait <= 0:
            await self.chunks_flush()
        elif self._chunk_timer is None:
            self._chunk_timer = asyncio.create_task(self._chunks_flush_after(wait))

    async def _chunks_flush_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._chunk_timer = None
        await self.chunks_flush()

    async def chunks_flush(self) -> None:
        """Broadcast the chunk text waiting for its window (in order; nothing once the turn is cancelled)."""
        async with self._chunk_lock:
            pending, self._pending_chunk = self._pending_chunk, None
            if pending is None or self.cancellation.cancelled:
                return
            self._last_chunk_sent = time.monotonic()
            self.chunks_sent += 1
            await chunk_broadcast(self.session_uid, turn_id=self.turn.pk, message_id=pending[0], text=pending[1])

    async def chunks_settle(self) -> None:
        """Before any stored event: the streamed text goes out first, and no timer outlives the stream."""
        if self._chunk_timer is not None:
            self._chunk_timer.cancel()
            self._chunk_timer = None
        await self.chunks_flush()

    async def message(self, *, message_id: str, text: str, data: Mapping[str, Any]) -> None:
        await self.chunks_settle()
        payload = {**dict(data or {}), "text": text, "message_id": message_id}
        if self._held:
            self._held.append((EventKind.MESSAGE, payload))
            self.messages.append(message_id)
            return
        if await self._append(kind=EventKind.MESSAGE, data=payload) is not None:
            self.messages.append(message_id)

    async def tool_event(self, *, data: Mapping[str, Any]) -> None:
        if self._held:
            self._held.append((EventKind.TOOL, dict(data)))
            return
        await self._append(kind=EventKind.TOOL, data=data)

    async def trace(self, *, trace: Mapping[str, Any]) -> None:
        await self.chunks_settle()
        await self.database.run(trace_store, self.turn, trace)
        self.trace_stored = True
        await self.held_flush(error=trace_error_text(trace))

    async def held_flush(self, *, error: str) -> None:
        """Store the held error status, now with its cause, and the events held behind it."""
        held, self._held = self._held, []
        for kind, data in held:
            if kind == EventKind.STATUS and data.get("status") == "error" and not data.get("message"):
                data = {**data, "message": error}
            await self._append(kind=kind, data=data)

    # ------------------------------------------------------------ storage

    async def _append(self, *, kind: str, data: Mapping[str, Any]) -> Event | None:
        if self.cancellation.cancelled:
            return None
        event = await self.database.run(self._append_sync, kind, _json_data(data))
        if event is None:
            self.cancellation.cancelled = True
        else:
            self.events.append(event)
        return event

    def _append_sync(self, kind: str, data: dict[str, Any]) -> Event | None:
        with transaction.atomic():
            locked = session_lock_unless_superseded(self.turn)
            if locked is None:
                return None
            event = event_append(locked, kind=kind, source=EventSource.AGENT, data=data, turn=self.turn)
            event.session = locked
            event_broadcast_on_commit(event)
        return event


def trace_store(turn: Turn, trace: Mapping[str, Any]) -> Trace:
    """Store (or replace, on a retried turn) the turn's trace."""
    data = json.loads(json.dumps(dict(trace), default=str))
    row, _ = Trace.objects.update_or_create(turn=turn, defaults={"data": data, "created_at": timezone.now()})
    return row


def trace_error_text(trace: Mapping[str, Any] | None) -> str:
    """The first contained error of a turn, from its trace, for people ("No language model is configured…")."""
    trace = trace or {}
    for entry in trace.get("errors") or []:
        if isinstance(entry, Mapping) and entry.get("error"):
            return _without_exception_name(str(entry["error"]))
    for call in trace.get("llm_calls") or []:
        if isinstance(call, Mapping) and call.get("error"):
            return _without_exception_name(str(call["error"]))
    return "The agent could not produce a reply."


def _without_exception_name(text: str) -> str:
    """ "LLMNotConfiguredError: No language model…" reads better without the class name."""
    head, separator, rest = text.partition(": ")
    if separator and head.isidentifier() and head[:1].isupper():
        return rest
    return text
