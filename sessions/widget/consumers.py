"""The widget's websocket, `ws/widget/sessions/<uid>/?key=pk_…` (docs/widget.md): the sandbox's realtime path
(sessions.consumers.SessionStreamConsumer) for a website's customer. The key's own origins are checked at the
handshake (this route has no AllowedHostsOriginValidator and no login); the customer token arrives in the
first frame; the customer sees only what sessions.widget.serializers.customer_event_dict lets through.

Close codes: 4401 token missing, expired or forged; 4403 key unknown, origin refused, or not the visitor's
session; 4429 too many live connections from the address."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from agents.models import WidgetKey
from config.errors import DomainError, NotFound
from sessions.broadcast import typing_broadcast
from sessions.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, SessionStreamConsumer, database_call
from sessions.models import Session
from sessions.widget import services
from sessions.widget.security import (
    connection_close,
    connection_open,
    message_rate_check,
    origin_allowed,
    scope_address,
    scope_origin,
)
from sessions.widget.serializers import customer_event_dict

CLOSE_TOO_MANY = 4429


class WidgetConsumer(SessionStreamConsumer):
    key: WidgetKey

    async def admit(self) -> None:
        self.counted_address: str | None = None
        self.customer_name = ""
        query = parse_qs((self.scope.get("query_string") or b"").decode("latin-1"))
        public_key = (query.get("key") or [""])[0]
        key = await database_call(_key_for)(public_key, scope_origin(self.scope))
        if key is None:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        address = scope_address(self.scope)
        if not await database_call(connection_open)(address):
            await self.refuse(CLOSE_TOO_MANY)
            return
        self.counted_address = address
        self.key = key
        self.admitted = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if getattr(self, "counted_address", None):
            await database_call(connection_close)(self.counted_address)
            self.counted_address = None

    async def frame_received(self, kind: Any, frame: dict[str, Any]) -> None:
        if kind == "resume":
            await self._resume_as_customer(frame)
            return
        if self.group is None:
            await self.error("bad_request", 'Send {"type": "resume", "token": ..., "after": N} first.')
            return
        if kind == "message":
            await self._post(frame.get("text"))
        elif kind == "typing":
            if self.session.closed_at is None:
                await typing_broadcast(self.session.uid, who="customer", name=self.customer_name)
        else:
            await self.error(
                "bad_request", f"Unknown frame type {str(kind)[:40]!r} (use resume, message, typing or ping)."
            )

    async def _resume_as_customer(self, frame: dict[str, Any]) -> None:
        if self.group is None:
            found = await database_call(_visitor_session)(
                self.key, frame.get("token"), self.scope["url_route"]["kwargs"]["uid"]
            )
            if isinstance(found, int):
                await self.close(code=found)
                self.admitted = False
                return
            session, self.customer_name = found
            await self.stream_start(session)
        await self.resume(frame.get("after", 0))

    async def _post(self, text: Any) -> None:
        try:
            await database_call(_message_post)(self.session, text)
        except DomainError as error:
            await self.error(error.code, error.message)

    def event_frame(self, event: dict[str, Any]) -> dict[str, Any] | None:
        shown = customer_event_dict(event)
        return {"type": "event", "event": shown} if shown is not None else None

    def chunk_frame(self, message: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "chunk", "message_id": message["message_id"], "text": message["text"]}

    def typing_frame(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("who") != "operator":
            return None  # the customer's own typing, echoed by the group
        return {"type": "typing", "who": "operator", "name": message.get("name", "")}


def _key_for(public_key: str, origin: str | None) -> WidgetKey | None:
    from agents.widget_keys import widget_key_by_public

    key = widget_key_by_public(public_key)
    if key is None or not origin_allowed(key, origin):
        return None
    return key


def _visitor_session(key: WidgetKey, token: Any, uid: Any) -> tuple[Session, str] | int:
    """(the session, the customer's name) when the token names the visitor whose session it is; else a close code."""
    if not isinstance(token, str) or not token:
        return CLOSE_UNAUTHENTICATED
    try:
        visitor = services.widget_visitor_from_token(key=key, token=token)
    except DomainError:
        return CLOSE_UNAUTHENTICATED
    try:
        session = services.widget_session_get(visitor=visitor, uid=uid)
    except NotFound:
        return CLOSE_FORBIDDEN
    return session, visitor.customer.name


def _message_post(session: Session, text: Any) -> None:
    message_rate_check(session.pk)
    fresh = Session.objects.get(pk=session.pk)  # closed or handed over since the socket opened
    services.widget_message_post(fresh, text=text)
