"""Reads of the operators' inbox: conversations waiting for a human (oldest first), those the operator owns,
every live conversation, and what the conversation page shows about a handoff (its cause, the trace of the
turn that caused it, internal notes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, JSONField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from sessions.models import (
    Event,
    EventKind,
    Handoff,
    OperatorNote,
    Session,
    SessionMode,
    SessionSource,
    Trace,
)
from sessions.selectors import guideline_texts, sessions_visible_to

# "All live conversations": real customers (widget, API) active in the last day and not ended.
LIVE_WINDOW = timedelta(hours=24)
LIVE_SOURCES = (SessionSource.WIDGET, SessionSource.API)
EXCERPT_MAX_CHARS = 120
NOTES_SHOWN = 200


def _annotated(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions with what an inbox row shows: the open handoff's request time and the last message."""
    open_handoff = Handoff.objects.filter(session_id=OuterRef("pk"), returned_at__isnull=True).order_by("-requested_at")
    last_message = Event.objects.filter(session_id=OuterRef("pk"), kind=EventKind.MESSAGE).order_by("-offset")
    return sessions.select_related("agent", "customer", "assigned_to", "version").annotate(
        waiting_since=Subquery(open_handoff.values("requested_at")[:1]),
        handoff_reason=Subquery(open_handoff.values("reason")[:1]),
        last_message_data=Subquery(last_message.values("data")[:1], output_field=JSONField()),
        last_message_source=Subquery(last_message.values("source")[:1]),
    )


def inbox_waiting(user: Any) -> QuerySet[Session]:
    """Conversations waiting for a human, the longest-waiting first."""
    sessions = (
        sessions_visible_to(user)
        .filter(mode=SessionMode.WAITING, closed_at__isnull=True)
        .exclude(source=SessionSource.EVALUATION)  # a test run's handoff waits for nobody
    )
    return _annotated(sessions).order_by(F("waiting_since").asc(nulls_last=True), "updated_at", "id")


def inbox_mine(user: Any) -> QuerySet[Session]:
    """Conversations this operator handles now, most recently active first."""
    sessions = sessions_visible_to(user).filter(mode=SessionMode.HUMAN, assigned_to_id=user.pk, closed_at__isnull=True)
    return _annotated(sessions).order_by("-updated_at", "-id")


def inbox_live(user: Any, *, now: datetime | None = None) -> QuerySet[Session]:
    """Every live customer conversation (widget or API, active in the last LIVE_WINDOW, not ended), whoever
    owns it, most recently active first: an operator may take any of them over."""
    since = (now or timezone.now()) - LIVE_WINDOW
    sessions = sessions_visible_to(user).filter(closed_at__isnull=True, source__in=LIVE_SOURCES, updated_at__gte=since)
    return _annotated(sessions).order_by("-updated_at", "-id")


def inbox_waiting_count(user: Any) -> int:
    return inbox_waiting(user).count()


@dataclass(frozen=True)
class InboxRow:
    """One readable inbox line: who, with which agent, on which channel, since when, saying what."""

    session: Session
    customer: str
    agent: str
    channel: str
    mode: str
    waiting_since: datetime | None
    waiting_for: str  # "under a minute", "3 min", "2 h 5 min", "3 days"
    owner: str
    excerpt: str
    excerpt_from: str


def inbox_rows(sessions: Any, *, now: datetime | None = None) -> list[InboxRow]:
    """Rows of annotated sessions (see `_annotated`)."""
    now = now or timezone.now()
    rows = []
    for session in sessions:
        data = session.last_message_data if isinstance(session.last_message_data, dict) else {}
        text = " ".join(str(data.get("text") or "").split())
        if len(text) > EXCERPT_MAX_CHARS:
            text = text[: EXCERPT_MAX_CHARS - 1] + "…"
        owner = session.assigned_to
        waiting_since = session.waiting_since if session.mode == SessionMode.WAITING else None
        rows.append(
            InboxRow(
                session=session,
                customer=customer_label(session),
                agent=session.agent.name,
                channel=session.get_source_display(),
                mode=session.mode,
                waiting_since=waiting_since,
                waiting_for=duration_label(now - waiting_since) if waiting_since is not None else "",
                owner=(owner.get_full_name() or owner.get_username()) if owner is not None else "",
                excerpt=text,
                excerpt_from=_who(session.last_message_source or "", data),
            )
        )
    return rows


def duration_label(elapsed: timedelta) -> str:
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = minutes // (24 * 60)
    return f"{days} day{'s' if days != 1 else ''}"


def customer_label(session: Session) -> str:
    customer = session.customer
    return customer.name or customer.external_id or f"Customer {customer.pk}"


def _who(source: str, data: dict[str, Any]) -> str:
    if source == "customer":
        return "Customer"
    if source == "agent":
        return "Agent"
    if source == "human_operator":
        operator = data.get("operator")
        if isinstance(operator, dict):
            return str(operator.get("display_name") or operator.get("name") or "Operator")
        return "Operator"
    return ""


# ---------------------------------------------------------------- the conversation page


@dataclass(frozen=True)
class HandoffCause:
    """Why the conversation came to the humans, for the operator: the handoff, the guidelines named in its
    detail (with their text as the session's behavior saw them) and the trace of the turn that caused it."""

    handoff: Handoff
    guidelines: list[dict[str, Any]]
    trace: dict[str, Any] | None


def handoff_current(session: Session) -> HandoffCause | None:
    """The open handoff of the session (else the latest one) and its cause."""
    handoff = (
        Handoff.objects.filter(session_id=session.pk)
        .select_related("taken_by", "returned_by", "turn")
        .order_by(F("returned_at").asc(nulls_first=True), "-requested_at", "-id")  # the open one first
        .first()
    )
    if handoff is None:
        return None
    keys = [key for key in (handoff.detail or {}).get("guidelines") or [] if isinstance(key, str)]
    texts = guideline_texts(session, keys)
    guidelines = [{"key": key, **texts.get(key, {"title": "", "condition": "", "action": ""})} for key in keys]
    trace = None
    if handoff.turn_id is not None:
        row = Trace.objects.filter(turn_id=handoff.turn_id).first()
        trace = row.data if row is not None and isinstance(row.data, dict) else None
    return HandoffCause(handoff=handoff, guidelines=guidelines, trace=trace)


def operator_notes(session: Session) -> list[OperatorNote]:
    """The session's internal notes, oldest first."""
    return list(
        OperatorNote.objects.filter(session_id=session.pk)
        .select_related("author")
        .order_by("created_at", "id")[:NOTES_SHOWN]
    )
