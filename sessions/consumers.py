"""Websocket consumers. SessionStreamConsumer is the one realtime path of a session (replay from the client's
last offset, then live events and chunks, nothing lost or duplicated); the sandbox consumer below streams a
session to a logged-in tester, admin or operator, and sessions.widget.consumers to a website's customer.

Protocol (JSON text frames):
    client → {"type": "resume", "after": <last offset seen, 0 for all>}    (on every (re)connect)
             {"type": "message", "text": "..."}                             (as the customer; sandbox sessions)
             {"type": "operator_message", "text": "..."}                    (as the human agent, in human mode)
             {"type": "typing"}                                             (an operator types a reply: the
                                                                             customer sees it, at most every 2 s)
             {"type": "ping"}                                               (answered by "pong" after all
                                                                             earlier frames are handled)
    server → {"type": "event", "event": {...sessions.serializers.event_to_dict...}}
             {"type": "chunk", "turn": <turn id>, "message_id": "...", "text": "..."}   (streamed, not stored)
             {"type": "rewound", "from": <offset>}   (events from that offset on were deleted: drop them; the
                                                     offsets are used again by the events that follow)
             {"type": "typing", "who": "customer" | "operator", "name": "..."}   (ephemeral)
             {"type": "error", "code": "...", "message": "..."}
             {"type": "pong"}
Chunks belong to the message whose `message_id` they carry; the stored "message" event is the final text
(a superseded turn may have streamed chunks that never get a message: turns of a session run one at a time,
so drop every stream left at the next "ready"). Every turn that was not superseded ends with a "status"
event {"status": "ready"}.
Close codes: 4401 not logged in, 4403 not allowed to see the session (or it does not exist).
"""

from __future__ import annotations

import json
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from config.errors import DomainError, NotFound
from sessions.broadcast import home_loop_register, session_group, typing_broadcast
from sessions.models import Event, Session
from sessions.selectors import SessionAccess, session_get_for_user
from sessions.serializers import event_to_dict
from sessions.services.handoff import operator_identity
from sessions.services.messages import customer_message_post, operator_message_post

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
REPLAY_PAGE = 200
MESSAGES_PER_MINUTE = 30
MAX_OFFSET = 2**31 - 1
TYPING_INTERVAL_SECONDS = 2.0


_database_executor: ThreadPoolExecutor | None = None


def database_call(function: Any) -> Any:
    """Run ORM work off the event loop, connections closed around it (as channels' database_sync_to_async),
    on a pool of WEBSOCKET_DATABASE_THREADS threads rather than asgiref's one shared thread, so consumers do
    not queue behind each other. One consumer still awaits its own calls in order."""
    global _database_executor
    if _database_executor is None:
        _database_executor = ThreadPoolExecutor(
            max_workers=int(getattr(settings, "WEBSOCKET_DATABASE_THREADS", 8)), thread_name_prefix="ws-db"
        )
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=_database_executor)


class SessionStreamConsumer(AsyncWebsocketConsumer):
    """One session's realtime stream, shared by the sandbox and the widget: join the session's group, replay
    from the client's offset on "resume", then live events in offset order (no gap, no duplicate), chunks,
    typing and rewinds. Subclasses admit the client (`connect`), call `stream_start` once they know the session,
    handle their own frames (`frame_received`) and may reshape or hide what is sent (`event_frame`,
    `chunk_frame`, `typing_frame`: None sends nothing; a hidden event still advances the offset)."""

    session: Session

    async def connect(self) -> None:
        self.group: str | None = None
        self.admitted = False  # frames are read only once the subclass admitted the client
        self.last_sent: int | None = None  # None until the client sends "resume"
        await self.admit()

    async def admit(self) -> None:
        raise NotImplementedError

    async def stream_start(self, session: Session) -> None:
        """Subscribe to the session's group. Join before any replay: an event committed during the replay is
        then either in the replay or in the group's queue, and the offset check drops the copy."""
        self.session = session
        home_loop_register()
        self.group = session_group(session.uid)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def refuse(self, code: int) -> None:
        # Accept, then close: a browser sees the close code only on an open socket (a refused handshake has none).
        self.admitted = False
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    # ------------------------------------------------------------ client → server

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not getattr(self, "admitted", False):
            return
        limit = int(settings.MAX_CUSTOMER_MESSAGE_CHARS) * 4 + 1024
        if text_data is None or len(text_data) > limit:
            await self.error(
                "payload_too_large" if text_data else "bad_request", "Send JSON text frames, within the size limit."
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("bad_request", "The frame is not JSON.")
            return
        if not isinstance(frame, dict):
            await self.error("bad_request", "The frame must be a JSON object.")
            return
        kind = frame.get("type")
        if kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))
        else:
            await self.frame_received(kind, frame)

    async def frame_received(self, kind: Any, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    async def resume(self, after: Any) -> None:
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_OFFSET:
            await self.error("bad_request", '"after" must be the last offset you saw (0 for everything).')
            return
        last = await database_call(_last_offset)(self.session)
        if after > last:  # the client saw events a rewind has since deleted
            await self._send_rewound(last + 1)
            after = last
        self.last_sent = after
        await self._replay(upto=None)

    # ------------------------------------------------------------ server → client

    def event_frame(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "event", "event": event}

    def chunk_frame(self, message: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "chunk", "turn": message["turn"], "message_id": message["message_id"], "text": message["text"]}

    def typing_frame(self, message: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "typing", "who": message["who"], "name": message["name"]}

    async def session_event(self, message: dict[str, Any]) -> None:
        """A live event from the group. Events of one session are delivered in offset order: an event
        already sent is dropped, and a gap (another process's event not broadcast yet) is read from the
        database first."""
        if self.last_sent is None:
            return  # not resumed yet: the resume replays it from the database
        event = message["event"]
        offset = int(event["offset"])
        if offset <= self.last_sent:
            return
        if offset > self.last_sent + 1:
            await self._replay(upto=offset - 1)
        await self._send_event(event)

    async def session_chunk(self, message: dict[str, Any]) -> None:
        if self.last_sent is None:
            return
        await self._send_frame(self.chunk_frame(message))

    async def session_typing(self, message: dict[str, Any]) -> None:
        """Someone (the customer, an operator) is typing: ephemeral, never stored."""
        if self.last_sent is None:
            return
        await self._send_frame(self.typing_frame(message))

    async def session_rewound(self, message: dict[str, Any]) -> None:
        """Events from `from` on were deleted (API rewind): the client drops them, and the offsets they had
        are sent again as new events take them (any already committed are replayed now)."""
        if self.last_sent is None:
            return
        first_gone = int(message["from"])
        await self._send_rewound(first_gone)
        if self.last_sent >= first_gone:
            self.last_sent = first_gone - 1
            await self._replay(upto=None)

    async def _send_rewound(self, first_gone: int) -> None:
        await self.send(text_data=json.dumps({"type": "rewound", "from": first_gone}))

    async def _replay(self, *, upto: int | None) -> None:
        while True:
            assert self.last_sent is not None
            events = await database_call(_events_page)(self.session, after=self.last_sent, upto=upto)
            for event in events:
                await self._send_event(event)
            if len(events) < REPLAY_PAGE:
                return

    async def _send_event(self, event: dict[str, Any]) -> None:
        await self._send_frame(self.event_frame(event))
        self.last_sent = int(event["offset"])  # a hidden event moves the offset too: it is never read again

    async def _send_frame(self, frame: dict[str, Any] | None) -> None:
        if frame is not None:
            await self.send(text_data=json.dumps(frame))

    async def error(self, code: str, message: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "code": code, "message": message}))


class SandboxConsumer(SessionStreamConsumer):
    """`ws/sandbox/sessions/<uuid:uid>/`. Consumers never call the LLM: a message is stored and its turn is
    queued by the service; the reply arrives through the session's group like any other event."""

    access: SessionAccess

    async def admit(self) -> None:
        self.recent_posts: deque[float] = deque(maxlen=MESSAGES_PER_MINUTE)
        self.typing_sent_at = float("-inf")
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        found = await database_call(_session_with_access)(user, self.scope["url_route"]["kwargs"]["uid"])
        if found is None:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        session, self.access = found
        await self.stream_start(session)
        self.admitted = True
        await self.accept()

    async def frame_received(self, kind: Any, frame: dict[str, Any]) -> None:
        if kind == "resume":
            await self.resume(frame.get("after", 0))
        elif kind == "message":
            await self._post(frame.get("text"), operator=False)
        elif kind == "operator_message":
            await self._post(frame.get("text"), operator=True)
        elif kind == "typing":
            await self._typing()
        else:
            await self.error(
                "bad_request",
                f"Unknown frame type {str(kind)[:40]!r} (use resume, message, operator_message, typing or ping).",
            )

    async def _typing(self) -> None:
        """The operator is typing a reply: the customer sees "<name> is typing…" (at most one every 2 s)."""
        now = time.monotonic()
        if not self.access.operate or now - self.typing_sent_at < TYPING_INTERVAL_SECONDS:
            return
        self.typing_sent_at = now
        await typing_broadcast(
            self.session.uid, who="operator", name=operator_identity(self.scope["user"])["display_name"]
        )

    async def _post(self, text: Any, *, operator: bool) -> None:
        allowed = self.access.operate if operator else self.access.chat
        if not allowed:
            role = "write as the human agent" if operator else "write as the customer"
            await self.error("forbidden", f"You may not {role} in this session.")
            return
        if not self._within_rate():
            await self.error("rate_limited", f"At most {MESSAGES_PER_MINUTE} messages a minute; wait a moment.")
            return
        user = self.scope["user"]
        try:
            if operator:
                await database_call(operator_message_post)(self.session, text=text, user=user)
            else:
                await database_call(customer_message_post)(self.session, text=text)
        except DomainError as error:
            await self.error(error.code, error.message)

    def _within_rate(self) -> bool:
        now = time.monotonic()
        if len(self.recent_posts) == self.recent_posts.maxlen and now - self.recent_posts[0] < 60:
            return False
        self.recent_posts.append(now)
        return True


def _session_with_access(user: Any, uid: Any) -> tuple[Session, SessionAccess] | None:
    try:
        return session_get_for_user(user, uid)
    except NotFound:
        return None


def _last_offset(session: Session) -> int:
    last = Event.objects.filter(session_id=session.pk).order_by("-offset").values_list("offset", flat=True).first()
    return int(last or 0)


def _events_page(session: Session, *, after: int, upto: int | None) -> list[dict[str, Any]]:
    events = Event.objects.filter(session_id=session.pk, offset__gt=after)
    if upto is not None:
        events = events.filter(offset__lte=upto)
    rows = list(events.order_by("offset")[:REPLAY_PAGE])
    for row in rows:
        row.session = session
    return [event_to_dict(row) for row in rows]
