"""State changes of conversations: opening a session and the append-only event log (customers are in
sessions.services.customers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agents.models import Agent
from behavior.models import BehaviorVersion
from behavior.services.rows import invalid
from sessions.models import Customer, Event, EventKind, EventSource, Session, SessionSource, Turn

EVENT_DATA_MAX_BYTES = 64 * 1024


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as error:
        raise ValueError(f"The value is not JSON-serialisable: {error}") from error


def session_create(
    *,
    agent: Agent,
    customer: Customer,
    source: str,
    created_by: Any = None,
    version: BehaviorVersion | None = None,
    title: str = "",
) -> Session:
    """Open a session (the one way to: API, sandbox, widget, tests). `version=None` runs the agent's draft;
    an empty `title` becomes "<customer> · draft|vN". ValidationFailed for an unknown source or a version of
    another agent."""
    if source not in SessionSource.values:
        raise invalid("source", f"unknown session source {source!r} (use {', '.join(SessionSource.values)})")
    if version is not None and version.agent_id != agent.pk:
        raise invalid("version", f"version {version.number} belongs to another agent")
    label = "draft" if version is None else f"v{version.number}"
    return Session.objects.create(
        agent=agent,
        customer=customer,
        source=source,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        version=version,
        title=(title or f"{customer} · {label}")[:200],
    )


def event_append(
    session: Session,
    *,
    kind: str,
    source: str,
    data: Mapping[str, Any],
    turn: Turn | None = None,
) -> Event:
    """Append an event with the session's next offset (1, 2, 3... without gaps).

    The session row is locked for the allocation (SQLite serialises writers with IMMEDIATE transactions),
    so concurrent appends never collide. Raises ValueError for an unknown kind/source or data over 64 KiB.
    """
    if kind not in EventKind.values:
        raise ValueError(f"Unknown event kind {kind!r} (use {', '.join(EventKind.values)}).")
    if source not in EventSource.values:
        raise ValueError(f"Unknown event source {source!r} (use {', '.join(EventSource.values)}).")
    if not isinstance(data, Mapping):
        raise ValueError("Event data must be an object.")
    payload = dict(data)
    size = _json_size(payload)
    if size > EVENT_DATA_MAX_BYTES:
        raise ValueError(f"Event data is {size} bytes; the limit is {EVENT_DATA_MAX_BYTES}.")
    if turn is not None and turn.session_id != session.pk:
        raise ValueError("The turn belongs to another session.")
    with transaction.atomic():
        locked = Session.objects.select_for_update().only("pk").get(pk=session.pk)
        last = Event.objects.filter(session_id=locked.pk).aggregate(last=Max("offset"))["last"] or 0
        event = Event.objects.create(
            session_id=locked.pk, offset=last + 1, kind=kind, source=source, data=payload, turn=turn
        )
        now = timezone.now()
        Session.objects.filter(pk=locked.pk).update(updated_at=now)
        if kind == EventKind.MESSAGE:
            from sessions.webhooks.services import message_webhook_on_commit

            message_webhook_on_commit(session, offset=event.offset, source=source, data=payload)
    session.updated_at = now
    return event
