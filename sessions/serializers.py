"""The wire format of session events, shared by the sandbox, the widget and the REST API."""

from __future__ import annotations

from typing import Any

from sessions.models import Event


def event_to_dict(event: Event) -> dict[str, Any]:
    """One stored event as JSON: {"id", "session", "offset", "kind", "source", "data", "turn", "created_at"}.

    `session` is the session's public uid; `turn` is the id of the turn that emitted the event (null for
    customer and operator messages); `created_at` is ISO 8601 in UTC.
    """
    return {
        "id": event.pk,
        "session": str(event.session.uid),
        "offset": event.offset,
        "kind": event.kind,
        "source": event.source,
        "data": event.data,
        "turn": event.turn_id,
        "created_at": event.created_at.isoformat() if event.created_at else None,
    }
