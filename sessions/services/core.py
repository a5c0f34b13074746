"""State changes of conversations: customers, sessions and the append-only event log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agents.models import Agent
from behavior.models import BehaviorVersion, Tag
from sessions.models import Customer, Event, EventKind, EventSource, Session, SessionSource, Turn

EVENT_DATA_MAX_BYTES = 64 * 1024
CUSTOMER_METADATA_MAX_BYTES = 16 * 1024


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as error:
        raise ValueError(f"The value is not JSON-serialisable: {error}") from error


def customer_create(
    *,
    name: str,
    external_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Iterable[Tag | str] = (),
) -> Customer:
    """Create a customer; `tags` are Tag rows or tag names (created when missing)."""
    metadata = dict(metadata or {})
    if _json_size(metadata) > CUSTOMER_METADATA_MAX_BYTES:
        raise ValueError(f"Customer metadata is larger than {CUSTOMER_METADATA_MAX_BYTES} bytes.")
    with transaction.atomic():
        customer = Customer(name=name, external_id=external_id or None, metadata=metadata)
        customer.full_clean()
        customer.save()
        tag_rows = [tag if isinstance(tag, Tag) else _tag_for_name(tag) for tag in tags]
        if tag_rows:
            customer.tags.add(*tag_rows)
    return customer


def _tag_for_name(name: str) -> Tag:
    tag = Tag.objects.filter(name=name).first()
    if tag is None:
        tag = Tag(name=name)
        tag.full_clean()
        tag.save()
    return tag


def session_create(
    *,
    agent: Agent,
    customer: Customer,
    source: str,
    created_by: Any = None,
    version: BehaviorVersion | None = None,
    title: str = "",
) -> Session:
    """Open a session. `version=None` runs the agent's draft."""
    if source not in SessionSource.values:
        raise ValueError(f"Unknown session source {source!r} (use {', '.join(SessionSource.values)}).")
    if version is not None and version.agent_id != agent.pk:
        raise ValueError(f"Version {version.number} belongs to another agent.")
    return Session.objects.create(
        agent=agent,
        customer=customer,
        source=source,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        version=version,
        title=title[:200],
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
    session.updated_at = now
    return event
