"""Managing sessions as records (the REST API's title changes and deletion), and rewinding a session's event log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from behavior.services.rows import (
    row_clean,
)
from config.errors import Conflict, ValidationFailed
from sessions.broadcast import rewind_broadcast_on_commit
from sessions.models import Event, Session, Trace, Turn, TurnStatus
from sessions.services.sandbox import session_state_before


def session_update(session: Session, *, data: Mapping[str, Any]) -> Session:
    """Change a session's title (its mode changes through sessions.services.messages.session_mode_set)."""
    if "title" in data:
        session.title = data["title"]
        row_clean(session)
        session.save(update_fields=["title", "updated_at"])
    return session


def session_delete(session: Session) -> None:
    """Delete a session with its events, turns, traces and flags."""
    session.delete()


def session_rewind(session: Session, *, from_offset: int) -> int:
    """Delete the events with offset >= `from_offset` (with the turns they triggered and their traces) and
    restore the engine state as it was before that point. Returns how many events were deleted.

    Refused (Conflict) while a turn is running: it would keep writing into the rewound log.
    """
    if from_offset < 1:
        raise ValidationFailed("from must be at least 1.", details=[{"path": "from", "message": "at least 1"}])
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if Turn.objects.filter(session_id=locked.pk, status=TurnStatus.RUNNING).exists():
            raise Conflict(
                "The agent is answering right now; rewind when the turn has finished.", code="turn_in_progress"
            )
        doomed = Event.objects.filter(session_id=locked.pk, offset__gte=from_offset)
        count = doomed.count()
        if count == 0:
            return 0
        Turn.objects.filter(session_id=locked.pk, trigger_event__offset__gte=from_offset).delete()
        doomed.delete()
        rewind_broadcast_on_commit(locked.uid, from_offset=from_offset)
        last_turn = (
            Turn.objects.filter(session_id=locked.pk, trigger_event__offset__lt=from_offset)
            .order_by("-trigger_event__offset")
            .first()
        )
        trace = Trace.objects.filter(turn=last_turn).first() if last_turn is not None else None
        locked.state = session_state_before(
            locked, offset=from_offset, last_trace=trace.data if trace is not None else None
        )
        locked.save(update_fields=["state", "updated_at"])
    session.state = locked.state
    return count
