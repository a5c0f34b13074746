"""Messages into a session: a customer's (stored, then a turn is queued after commit), a human operator's,
and switching a session between the agent and a human operator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.permissions import Role, user_roles
from config.errors import Conflict, PayloadTooLarge, PermissionDenied, ValidationFailed
from sessions.broadcast import event_broadcast_on_commit, inbox_broadcast_on_commit
from sessions.models import HUMAN_MODES, Event, EventKind, EventSource, Session, SessionMode, Turn, TurnStatus
from sessions.services.core import event_append
from sessions.services.handoff import handoff_return, handoff_take, operator_identity

MESSAGE_METADATA_MAX_BYTES = 8 * 1024
CUSTOMER_MESSAGE_SOURCES = frozenset({EventSource.CUSTOMER})


def customer_message_post(
    session: Session,
    *,
    text: str,
    source: str = EventSource.CUSTOMER,
    metadata: Mapping[str, Any] | None = None,
    enqueue: bool = True,
) -> Event:
    """Store a customer message and, unless a human operator owns the session, queue the agent's turn.

    In one transaction: append the message event, supersede the session's pending turns (a running turn
    notices through the engine's cancellation check), create a pending turn. After commit the event is
    broadcast and the turn enqueued. Raises ValidationFailed (empty text, bad source or metadata) or
    PayloadTooLarge (text over MAX_CUSTOMER_MESSAGE_CHARS). With `enqueue=False` the pending turn is left for
    the caller to execute (an evaluation runs it in its own thread).
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
        if locked.mode in HUMAN_MODES:  # the inbox rows of waiting and taken conversations show the last message
            inbox_broadcast_on_commit(locked.uid, change="message", mode=locked.mode)
        else:
            now = timezone.now()
            Turn.objects.filter(session_id=locked.pk, status=TurnStatus.PENDING).update(
                status=TurnStatus.SUPERSEDED, finished_at=now
            )
            turn = Turn.objects.create(session=locked, trigger_event=event, status=TurnStatus.PENDING)
            if enqueue:
                _enqueue_on_commit(turn.pk)
    session.updated_at = locked.updated_at
    session.mode = locked.mode
    return event


def operator_message_post(session: Session, *, text: str, user: Any) -> Event:
    """A human operator's message, allowed only while that operator owns the session (an admin may always write
    in human mode). Raises Conflict when no human owns it, PermissionDenied for another operator's session,
    ValidationFailed/PayloadTooLarge for bad text."""
    clean = _message_text(text)
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.mode != SessionMode.HUMAN:
            raise Conflict("Take over the session before writing as the human agent.", code="not_in_human_mode")
        if locked.assigned_to_id not in (None, getattr(user, "pk", None)) and Role.ADMIN not in user_roles(user):
            raise PermissionDenied("Another operator handles this conversation.")
        event = event_append(
            locked,
            kind=EventKind.MESSAGE,
            source=EventSource.HUMAN_OPERATOR,
            data={"text": clean, "operator": operator_identity(user)},
        )
        event.session = locked
        event_broadcast_on_commit(event)
    return event


def session_mode_set(session: Session, *, mode: str, user: Any, note: str = "") -> Session:
    """Take a session over (mode "human") or hand it back to the agent ("auto"): the handoff services, so the
    sandbox, the API and the inbox share one path. Setting the current mode again changes nothing."""
    if mode not in (SessionMode.AUTO, SessionMode.HUMAN):
        raise ValidationFailed(f"Unknown session mode {mode!r} (use auto or human).")
    current = Session.objects.get(pk=session.pk)
    if mode == SessionMode.HUMAN:
        if current.mode == SessionMode.HUMAN and current.assigned_to_id == getattr(user, "pk", None):
            return current
        handoff_take(session, user=user)
    else:
        handoff_return(session, user=user, note=note)
    locked = Session.objects.get(pk=session.pk)
    session.mode, session.state, session.assigned_to_id = locked.mode, locked.state, locked.assigned_to_id
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
