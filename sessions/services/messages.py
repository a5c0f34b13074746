"""Messages into a session: a customer's (stored, then a turn is queued after commit), a human operator's,
and switching a session between the agent and a human operator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, PayloadTooLarge, ValidationFailed
from sessions.broadcast import event_broadcast_on_commit
from sessions.models import HUMAN_MODES, Event, EventKind, EventSource, Session, SessionMode, Turn, TurnStatus
from sessions.services.core import event_append

MESSAGE_METADATA_MAX_BYTES = 8 * 1024
CUSTOMER_MESSAGE_SOURCES = frozenset({EventSource.CUSTOMER})


def customer_message_post(
    session: Session, *, text: str, source: str = EventSource.CUSTOMER, metadata: Mapping[str, Any] | None = None
) -> Event:
    """Store a customer message and, unless a human operator owns the session, queue the agent's turn.

    In one transaction: append the message event, supersede the session's pending turns (a running turn
    notices through the engine's cancellation check), create a pending turn. After commit the event is
    broadcast and the turn enqueued. Raises ValidationFailed (empty text, bad source or metadata) or
    PayloadTooLarge (text over MAX_CUSTOMER_MESSAGE_CHARS).
    """
    clean = _message_text(text)
    if source not in CUSTOMER_MESSAGE_SOURCES:
        raise ValidationFailed(f"A customer message cannot have the source {source!r}.")
    data: dict[str, Any] = {"text": clean}
    if metadata:
        data["metadata"] = _metadata(metadata)
    with transaction.atomic():
        # The lock serialises concurrent posts to one session: exactly one turn stays pending.
        locked = Session.objects.select_for_update().get(pk=session.pk)
        event = event_append(locked, kind=EventKind.MESSAGE, source=source, data=data)
        event.session = locked
        event_broadcast_on_commit(event)
        if locked.mode not in HUMAN_MODES:
            now = timezone.now()
            Turn.objects.filter(session_id=locked.pk, status=TurnStatus.PENDING).update(
                status=TurnStatus.SUPERSEDED, finished_at=now
            )
            turn = Turn.objects.create(session=locked, trigger_event=event, status=TurnStatus.PENDING)
            _enqueue_on_commit(turn.pk)
    session.updated_at = locked.updated_at
    session.mode = locked.mode
    return event


def operator_message_post(session: Session, *, text: str, user: Any) -> Event:
    """A human operator's message, allowed only while the session is in human mode (the caller authorizes
    the user). Raises Conflict in agent mode, ValidationFailed/PayloadTooLarge for bad text."""
    clean = _message_text(text)
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.mode != SessionMode.HUMAN:
            raise Conflict("Take over the session before writing as the human agent.", code="not_in_human_mode")
        event = event_append(
            locked,
            kind=EventKind.MESSAGE,
            source=EventSource.HUMAN_OPERATOR,
            data={"text": clean, "operator": _operator(user)},
        )
        event.session = locked
        event_broadcast_on_commit(event)
    return event


def session_mode_set(session: Session, *, mode: str, user: Any) -> Session:
    """Take a session over (mode "human") or hand it back to the agent ("auto"); appends a status event.

    Taking over supersedes the session's pending turns; a running turn stops at its next cancellation
    check (the engine never replies while a human owns the session). Setting the current mode again is a
    no-op that returns the session unchanged."""
    if mode not in SessionMode.values:
        raise ValidationFailed(f"Unknown session mode {mode!r} (use {', '.join(SessionMode.values)}).")
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.mode == mode:
            return locked
        now = timezone.now()
        state = dict(locked.state or {})
        state["mode"] = mode
        Session.objects.filter(pk=locked.pk).update(mode=mode, state=state, updated_at=now)
        locked.mode = mode
        locked.state = state
        if mode == SessionMode.HUMAN:
            Turn.objects.filter(session_id=locked.pk, status=TurnStatus.PENDING).update(
                status=TurnStatus.SUPERSEDED, finished_at=now
            )
        status = "human_takeover" if mode == SessionMode.HUMAN else "agent_resumed"
        event = event_append(
            locked,
            kind=EventKind.STATUS,
            source=EventSource.SYSTEM,
            data={"status": status, "mode": mode, "operator": _operator(user)},
        )
        event.session = locked
        event_broadcast_on_commit(event)
    session.mode = locked.mode
    session.state = locked.state
    return locked


def _enqueue_on_commit(turn_id: int) -> None:
    from sessions.services.turns import turn_enqueue

    transaction.on_commit(lambda: turn_enqueue(turn_id))


def _message_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ValidationFailed("The message text must be a string.")
    clean = text.strip()
    if not clean:
        raise ValidationFailed("The message is empty.")
    limit = int(settings.MAX_CUSTOMER_MESSAGE_CHARS)
    if len(clean) > limit:
        raise PayloadTooLarge(
            f"The message has {len(clean)} characters; the limit is {limit}.", details={"limit": limit}
        )
    return clean


def _metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise ValidationFailed("Message metadata must be an object.")
    try:
        size = len(json.dumps(dict(metadata), separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as error:
        raise ValidationFailed(f"Message metadata is not JSON: {error}") from error
    if size > MESSAGE_METADATA_MAX_BYTES:
        raise PayloadTooLarge(f"Message metadata is {size} bytes; the limit is {MESSAGE_METADATA_MAX_BYTES}.")
    return dict(metadata)


def _operator(user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "pk", None):
        return {"id": None, "name": ""}
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
    return {"id": user.pk, "name": name[:150]}
