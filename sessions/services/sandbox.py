"""Sandbox state changes: branching a session from an edited message, regenerating a reply, and flags on
agent messages (test customers and sessions are created by the customers and core services)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from behavior.engine.types import SessionState
from config.errors import ValidationFailed
from sessions.models import (
    Event,
    EventKind,
    EventSource,
    Flag,
    Session,
    SessionMode,
    SessionSource,
    Trace,
    Turn,
)
from sessions.services.messages import customer_message_post

FLAG_REASON_MAX_CHARS = 2000
FLAGGABLE_SOURCES = frozenset({EventSource.AGENT, EventSource.HUMAN_OPERATOR})


def session_branch(session: Session, *, offset: int, text: str, user: Any) -> Session:
    """Rewind to the customer message at `offset` and send `text` instead, in a NEW session.

    The branch copies every event before `offset` (with their turns and traces, so earlier replies stay
    explainable), starts from the engine state as it was at that point, then posts `text` as the customer
    (which queues the agent's turn). The original session is not touched.
    """
    event = _event(session, offset)
    if event.kind != EventKind.MESSAGE or event.source != EventSource.CUSTOMER:
        raise ValidationFailed("Only a customer message can be edited.")
    with transaction.atomic():
        branch = _branch_copy(session, before_offset=offset, user=user)
        customer_message_post(branch, text=text)
    return branch


def session_regenerate(session: Session, *, offset: int, user: Any) -> Session:
    """Run the turn that produced the agent message at `offset` again, in a NEW session branched just
    before the customer message that triggered it; the original reply stays in the original session."""
    event = _event(session, offset)
    if event.kind != EventKind.MESSAGE or event.source != EventSource.AGENT or event.turn_id is None:
        raise ValidationFailed("Only an agent reply can be regenerated.")
    trigger = Turn.objects.select_related("trigger_event").get(pk=event.turn_id).trigger_event
    text = (trigger.data or {}).get("text")
    if trigger.kind != EventKind.MESSAGE or not isinstance(text, str) or not text.strip():
        raise ValidationFailed("The customer message that triggered this reply has no text to send again.")
    with transaction.atomic():
        branch = _branch_copy(session, before_offset=trigger.offset, user=user)
        customer_message_post(branch, text=text)
    return branch


def flag_create(session: Session, *, offset: int, reason: str, user: Any) -> Flag:
    """Flag the agent (or human agent) message at `offset` with a reason."""
    event = _event(session, offset)
    if event.kind != EventKind.MESSAGE or event.source not in FLAGGABLE_SOURCES:
        raise ValidationFailed("Only an agent message can be flagged.")
    clean = (reason or "").strip()
    if not clean:
        raise ValidationFailed("Say why you flag this message.", details=[{"path": "reason", "message": "required"}])
    if len(clean) > FLAG_REASON_MAX_CHARS:
        raise ValidationFailed(
            f"The reason is longer than {FLAG_REASON_MAX_CHARS} characters.",
            details=[{"path": "reason", "message": f"at most {FLAG_REASON_MAX_CHARS} characters"}],
        )
    return Flag.objects.create(
        session=session, event=event, reason=clean, created_by=user if getattr(user, "pk", None) else None
    )


def _event(session: Session, offset: int) -> Event:
    event = Event.objects.filter(session_id=session.pk, offset=offset).first()
    if event is None:
        raise ValidationFailed(f"The session has no event #{offset}.")
    return event


def _branch_copy(session: Session, *, before_offset: int, user: Any) -> Session:
    """A new session with the events (and their turns and traces) of `session` before `before_offset`."""
    events = list(Event.objects.filter(session_id=session.pk, offset__lt=before_offset).order_by("offset"))
    base_title = session.title or f"Session {str(session.uid)[:8]}"
    branch = Session.objects.create(
        agent_id=session.agent_id,
        customer_id=session.customer_id,
        source=SessionSource.SANDBOX,
        mode=SessionMode.AUTO,
        version_id=session.version_id,
        created_by=user if getattr(user, "pk", None) else None,
        parent=session,
        branched_from_offset=before_offset,
        title=f"{base_title} (branch at #{before_offset})"[:200],
    )
    originals = {
        turn.pk: turn
        for turn in Turn.objects.filter(session_id=session.pk, trigger_event__offset__lt=before_offset).select_related(
            "trigger_event"
        )
    }
    copied_events: dict[int, Event] = {}
    copied_turns: dict[int, Turn] = {}
    for event in events:
        turn = None
        if event.turn_id is not None and event.turn_id in originals:
            turn = copied_turns.get(event.turn_id)
            original = originals[event.turn_id]
            trigger = copied_events.get(original.trigger_event.offset)
            if turn is None and trigger is not None:
                turn = Turn.objects.create(
                    session=branch,
                    trigger_event=trigger,
                    status=original.status,
                    attempts=original.attempts,
                    started_at=original.started_at,
                    finished_at=original.finished_at,
                    error=original.error,
                )
                copied_turns[event.turn_id] = turn
        # Same offsets as the original, so "#n" means the same message in both sessions.
        copied_events[event.offset] = Event.objects.create(
            session=branch, offset=event.offset, kind=event.kind, source=event.source, data=event.data, turn=turn
        )
    last_trace: dict[str, Any] | None = None
    for original_id, copy in sorted(copied_turns.items(), key=lambda item: item[1].trigger_event.offset):
        trace = Trace.objects.filter(turn_id=original_id).first()
        if trace is not None:
            Trace.objects.create(turn=copy, data=trace.data)
            last_trace = trace.data
    branch.state = session_state_before(session, offset=before_offset, last_trace=last_trace)
    branch.save(update_fields=["state"])
    return branch


def session_state_before(session: Session, *, offset: int, last_trace: Mapping[str, Any] | None) -> dict[str, Any]:
    """The engine state as it was before `offset`, rebuilt from the session's state and the last copied trace.

    Applied guidelines keep their entries from earlier messages; journey positions come from the last copied
    turn's trace; the summary survives only if it ends before the branch point; tool-fed variables are
    fetched again.
    """
    current = SessionState.from_dict(session.state or None)
    journeys: dict[str, str] = {}
    if last_trace:
        after = (last_trace.get("journeys") or {}).get("after") or {}
        journeys = {str(key): str(value) for key, value in after.items()}
    paths: dict[str, tuple[str, ...]] = {}
    for journey, state_key in journeys.items():
        path = list(current.journey_paths.get(journey, ()))
        if state_key in path:
            # The path as it was when the journey last stood on this state.
            path = path[: len(path) - path[::-1].index(state_key)]
        else:
            path = [state_key]
        paths[journey] = tuple(path)
    keep_summary = 0 <= current.summary_until_offset < offset
    rebuilt = SessionState(
        mode="auto",
        applied=tuple(item for item in current.applied if item.offset < offset),
        journeys=journeys,
        journey_paths=paths,
        variables={},
        summary=current.summary if keep_summary else "",
        summary_until_offset=current.summary_until_offset if keep_summary else -1,
        key_facts=current.key_facts if keep_summary else (),
    )
    return rebuilt.to_dict()
