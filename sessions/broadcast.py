"""The one module that knows channel group names and message types: every send to a session's group goes
through here, events after their transaction commits (`broadcast_on_commit`), chunks immediately."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Channel-layer message types; a consumer handles "session.event" in `session_event`, etc.
EVENT = "session.event"
CHUNK = "session.chunk"
REWOUND = "session.rewound"
TYPING = "session.typing"  # ephemeral: {"who": "customer" | "operator", "name": display name}
INBOX_CHANGED = "inbox.changed"  # to INBOX_GROUP: {"session": uid, "change": what happened, "mode": ...}
MESSAGE_TYPES = frozenset({EVENT, CHUNK, REWOUND, TYPING, INBOX_CHANGED})

# Every operator's inbox page listens here: a handoff requested or taken, a session handed back or closed.
INBOX_GROUP = "inbox"

SEND_TIMEOUT_SECONDS = 5.0

# The in-memory channel layer keeps asyncio queues that belong to the event loop of the consumers (daphne's
# loop in the embedded default). Turns run in other threads with their own loops, so their sends are handed
# to that loop instead of touching its queues from a foreign thread.
_home_loop: asyncio.AbstractEventLoop | None = None
_home_lock = threading.Lock()
# A loop a thread's synchronous sends should run on (the turn's loop, for the turn's database thread):
# one connection pool per turn instead of a new event loop per send.
_thread_loop = threading.local()


def session_group(session_uid: UUID | str) -> str:
    """The channel group of one session (ASCII letters, digits and dots, under 100 characters)."""
    value = session_uid if isinstance(session_uid, UUID) else UUID(str(session_uid))
    return f"session.{value.hex}"


def home_loop_register() -> None:
    """Called by consumers from the loop they run in, so in-memory sends from other threads reach them."""
    global _home_loop
    loop = asyncio.get_running_loop()
    with _home_lock:
        _home_loop = loop


def thread_loop_bind(loop: asyncio.AbstractEventLoop | None) -> None:
    """Make synchronous sends from the current thread run on `loop` (None unbinds)."""
    _thread_loop.loop = loop


def broadcast_on_commit(session_uid: UUID | str, *, message_type: str, payload: Mapping[str, Any]) -> None:
    """Send `payload` to the session's group once the current transaction commits (at once outside one)."""
    group = session_group(session_uid)
    message = _message(message_type, payload)
    transaction.on_commit(lambda: broadcast_now(group, message))


def event_broadcast_on_commit(event: Any) -> None:
    """Broadcast a stored Event (its wire form, see sessions.serializers) after commit."""
    from sessions.serializers import event_to_dict

    broadcast_on_commit(event.session.uid, message_type=EVENT, payload={"event": event_to_dict(event)})


def rewind_broadcast_on_commit(session_uid: UUID | str, *, from_offset: int) -> None:
    """Tell the session's clients, after commit, that the events from `from_offset` on were deleted."""
    broadcast_on_commit(session_uid, message_type=REWOUND, payload={"from": from_offset})


async def chunk_broadcast(session_uid: UUID | str, *, turn_id: int, message_id: str, text: str) -> None:
    """Send one streamed message chunk (ephemeral: never stored) from async code."""
    message = _message(CHUNK, {"turn": turn_id, "message_id": message_id, "text": text})
    await broadcast_async(session_group(session_uid), message)


async def typing_broadcast(session_uid: UUID | str, *, who: str, name: str = "") -> None:
    """Tell the session's clients that the customer or an operator is typing (ephemeral, from async code)."""
    await broadcast_async(session_group(session_uid), _message(TYPING, {"who": who, "name": name[:150]}))


def typing_broadcast_now(session_uid: UUID | str, *, who: str, name: str = "") -> None:
    """typing_broadcast from synchronous code (an HTTP view)."""
    broadcast_now(session_group(session_uid), _message(TYPING, {"who": who, "name": name[:150]}))


def inbox_broadcast_on_commit(session_uid: UUID | str, *, change: str, mode: str) -> None:
    """Tell every open inbox, after commit, that a conversation's place in the inbox changed."""
    message = _message(INBOX_CHANGED, {"session": str(session_uid), "change": change, "mode": mode})
    transaction.on_commit(lambda: broadcast_now(INBOX_GROUP, message))


def broadcast_now(group: str, message: dict[str, Any]) -> None:
    """Send from synchronous code. Failures are logged, never raised: the event is already stored and a
    client that missed it gets it from the database when it resumes."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        target = _target_loop(layer)
        if target is not None and target is _current_loop():
            # Synchronous code on the target loop's own thread cannot block on it: schedule the send.
            target.create_task(layer.group_send(group, message))
        elif target is not None:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), target)
            future.result(timeout=SEND_TIMEOUT_SECONDS)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("Broadcast to %s failed", group)


async def broadcast_async(group: str, message: dict[str, Any]) -> None:
    """Send from async code (any loop); failures are logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        target = _target_loop(layer)
        if target is not None and target is not asyncio.get_running_loop():
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), target)
            await asyncio.wait_for(asyncio.wrap_future(future), timeout=SEND_TIMEOUT_SECONDS)
        else:
            await layer.group_send(group, message)
    except Exception:
        logger.exception("Broadcast to %s failed", group)


def _message(message_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"Unknown broadcast type {message_type!r}")
    return {"type": message_type, **payload}


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _running_loop_or_none(loop: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop | None:
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _target_loop(layer: Any) -> asyncio.AbstractEventLoop | None:
    """The loop a send must run on, or None to send from a fresh loop (async_to_sync) or the current one."""
    if isinstance(layer, InMemoryChannelLayer):
        return _running_loop_or_none(_home_loop)
    return _running_loop_or_none(getattr(_thread_loop, "loop", None))
