"""Reads of conversations: the event log after a client's last seen offset."""

from __future__ import annotations

from sessions.models import Event, Session

EVENTS_PAGE_MAX = 1000


def session_events_since(session: Session, *, offset: int, limit: int = 200) -> list[Event]:
    """Events with an offset greater than `offset`, oldest first (offset=0 gives the log from the start)."""
    limit = max(1, min(int(limit), EVENTS_PAGE_MAX))
    return list(Event.objects.filter(session_id=session.pk, offset__gt=max(int(offset), 0)).order_by("offset")[:limit])
