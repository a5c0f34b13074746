"""What a widget visitor reads: the customer-visible events of its own session after an offset, and the session's
last offset (hidden events count: offsets stay the session's own)."""

from __future__ import annotations

from typing import Any

from sessions.models import Event, Session
from sessions.selectors import session_last_offset
from sessions.widget.serializers import customer_event_dict, customer_session_dict

EVENTS_PAGE = 200


def widget_events_since(session: Session, *, after: int, limit: int = EVENTS_PAGE) -> tuple[list[dict[str, Any]], int]:
    """(customer-visible events after `after`, the last offset read). The offset moves past hidden events too,
    so a client asking again from it does not read them again; a page holds at most `limit` stored events."""
    rows = list(Event.objects.filter(session_id=session.pk, offset__gt=after).order_by("offset")[:limit])
    shown = [item for item in (customer_event_dict(row) for row in rows) if item is not None]
    last = rows[-1].offset if rows else min(after, session_last_offset(session))
    return shown, int(last)


def widget_session_dict(session: Session) -> dict[str, Any]:
    """The `<session>` object of docs/widget.md, read fresh."""
    fresh = Session.objects.select_related("assigned_to").get(pk=session.pk)
    return customer_session_dict(fresh, last_offset=session_last_offset(fresh))
