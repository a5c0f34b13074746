"""Sandbox state changes: test customers (tags, per-customer variable values), sandbox sessions, rewinding
and branching a session, regenerating a reply, and flags on agent messages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import Agent
from behavior.engine.types import SessionState
from behavior.models import BehaviorVersion, ContextVariable, ContextVariableValue, VariableScope
from config.errors import ValidationFailed
from sessions.models import (
    Customer,
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
from sessions.services.core import customer_create, session_create
from sessions.services.messages import customer_message_post

CUSTOMER_NAME_MAX_CHARS = 200
CUSTOMER_TAGS_MAX = 20
VARIABLE_VALUE_MAX_CHARS = 4000
FLAG_REASON_MAX_CHARS = 2000
FLAGGABLE_SOURCES = frozenset({EventSource.AGENT, EventSource.HUMAN_OPERATOR})


def sandbox_customer_create(
    *, agent: Agent, name: str, tags: Sequence[str] = (), variable_values: Mapping[str, str] | None = None
) -> Customer:
    """A test customer with tags and per-customer values of `agent`'s context variables.

    A value that parses as JSON is stored as that JSON (`42`, `true`, `{"a": 1}`), anything else as text;
    blank values are skipped. Raises ValidationFailed with per-field details.
    """
    clean_name = (name or "").strip()
    if not clean_name:
        raise ValidationFailed("The customer needs a name.", details=[{"path": "name", "message": "required"}])
    if len(clean_name) > CUSTOMER_NAME_MAX_CHARS:
        raise ValidationFailed(
            f"The name is longer than {CUSTOMER_NAME_MAX_CHARS} characters.",
            details=[{"path": "name", "message": f"at most {CUSTOMER_NAME_MAX_CHARS} characters"}],
        )
    tag_names = list(dict.fromkeys(tag.strip() for tag in tags if tag and tag.strip()))
    if len(tag_names) > CUSTOMER_TAGS_MAX:
        raise ValidationFailed(
            f"At most {CUSTOMER_TAGS_MAX} tags.", details=[{"path": "tags", "message": "too many tags"}]
        )
    variables = {variable.name: variable for variable in ContextVariable.objects.filter(agent=agent)}
    values: dict[str, Any] = {}
    for variable_name, raw in (variable_values or {}).items():
        if variable_name not in variables:
            raise ValidationFailed(
                f"Agent {agent.name!r} has no context variable {variable_name!r}.",
                details=[{"path": f"variables.{variable_name}", "message": "unknown variable"}],
            )
        text = (raw or "").strip()
        if not text:
            continue
        if len(text) > VARIABLE_VALUE_MAX_CHARS:
            raise ValidationFailed(
                f"The value of {variable_name!r} is longer than {VARIABLE_VALUE_MAX_CHARS} characters.",
                details=[{"path": f"variables.{variable_name}", "message": "too long"}],
            )
        values[variable_name] = _parsed_value(text)
    try:
        with transaction.atomic():
            customer = customer_create(name=clean_name, tags=tag_names)
            for variable_name, value in values.items():
                row = ContextVariableValue(
                    variable=variables[variable_name], scope=VariableScope.CUSTOMER, customer=customer, value=value
                )
                row.full_clean()
                row.save()
    except ValidationError as error:
        raise ValidationFailed(
            f"The customer is not valid: {'; '.join(error.messages)}",
            details=[{"path": "customer", "message": message} for message in error.messages],
        ) from None
    return customer


def sandbox_session_start(*, agent: Agent, customer: Customer, version: BehaviorVersion | None, user: Any) -> Session:
    """Open a sandbox session of `agent` (its draft when `version` is None) for a test customer."""
    if version is not None and version.agent_id != agent.pk:
        raise ValidationFailed(f"Version {version.number} belongs to another agent.")
    label = "draft" if version is None else f"v{version.number}"
    return session_create(
        agent=agent,
        customer=customer,
        source=SessionSource.SANDBOX,
        created_by=user,
        version=version,
        title=f"{customer} · {label}",
    )


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


def _parsed_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


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
