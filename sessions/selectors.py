"""Reads of conversations: the event log after a client's last seen offset, and what the sandbox shows
(who may see which session, session lists, chat events, traces, flags)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet

from agents.models import Agent
from agents.permissions import Area, Role, user_may_open, user_roles
from behavior.models import BehaviorVersion, Guideline
from behavior.services.rows import invalid, row_get
from config.errors import NotFound, PermissionDenied
from sessions.models import Customer, Event, EventKind, Flag, Session, SessionSource, Trace, Turn

EVENTS_PAGE_MAX = 1000


def session_events_since(session: Session, *, offset: int, limit: int = 200) -> list[Event]:
    """Events with an offset greater than `offset`, oldest first (offset=0 gives the log from the start)."""
    limit = max(1, min(int(limit), EVENTS_PAGE_MAX))
    return list(Event.objects.filter(session_id=session.pk, offset__gt=max(int(offset), 0)).order_by("offset")[:limit])


def customer_list(
    *, tag: str | None = None, external_id: str | None = None, q: str | None = None
) -> QuerySet[Customer]:
    """Customers, newest first."""
    customers = Customer.objects.prefetch_related("tags")
    if tag:
        customers = customers.filter(tags__name=tag)
    if external_id:
        customers = customers.filter(external_id=external_id)
    if q:
        customers = customers.filter(name__icontains=q)
    return customers.order_by("-created_at", "-id")


def customer_get(customer_id: int) -> Customer:
    return row_get(customer_list(), customer_id, what="customer")


def session_list(
    *,
    visible_to: QuerySet[Session] | None = None,
    agent_id: int | None = None,
    customer_id: int | None = None,
    mode: str | None = None,
    source: str | None = None,
) -> QuerySet[Session]:
    """Sessions, most recently active first, within `visible_to` when given (see sessions_visible_to)."""
    sessions = visible_to if visible_to is not None else Session.objects.all()
    if agent_id:
        sessions = sessions.filter(agent_id=agent_id)
    if customer_id:
        sessions = sessions.filter(customer_id=customer_id)
    if mode:
        sessions = sessions.filter(mode=mode)
    if source:
        sessions = sessions.filter(source=source)
    return sessions.select_related("version").order_by("-updated_at", "-id")


def session_get(uid: str, *, visible_to: QuerySet[Session] | None = None) -> Session:
    """The session with this public id; NotFound for a malformed, unknown or invisible id."""
    try:
        parsed = uuid.UUID(str(uid))
    except ValueError:
        raise NotFound(f"No session {uid!r}.") from None
    session = session_list(visible_to=visible_to).filter(uid=parsed).first()
    if session is None:
        raise NotFound(f"No session {uid!r}.")
    return session


# ---------------------------------------------------------------- sandbox: who may see and do what


@dataclass(frozen=True)
class SessionAccess:
    """What one user may do with one session. `view` false means the session must look nonexistent (404)."""

    view: bool = False
    chat: bool = False  # post as the customer, edit and branch, regenerate
    operate: bool = False  # take over, reply as the human agent, hand back
    flag: bool = False


def sandbox_allowed(user: Any) -> bool:
    """The sandbox pages (agent choice, session list, starting sessions) need the tester, editor or admin role."""
    return user_may_open(user, Area.SANDBOX)


def sessions_visible_to(user: Any) -> QuerySet[Session]:
    """Sessions the user may open: admins all; testers and editors the ones they created; operators any (for
    takeover)."""
    roles = user_roles(user)
    if Role.ADMIN in roles or Role.OPERATOR in roles:
        return Session.objects.all()
    if Role.TESTER in roles or Role.EDITOR in roles:
        return Session.objects.filter(created_by_id=user.pk)
    return Session.objects.none()


def session_access(user: Any, session: Session) -> SessionAccess:
    """The user's rights on `session` (see SessionAccess); everything false when it is not visible."""
    roles = user_roles(user)
    is_admin = Role.ADMIN in roles
    sandbox_user = Role.TESTER in roles or Role.EDITOR in roles
    owns = sandbox_user and session.created_by_id is not None and session.created_by_id == user.pk
    operator = Role.OPERATOR in roles
    if session.source == SessionSource.EVALUATION:
        # A test run's conversation: every tester and editor reads it (its traces explain the results); nobody
        # writes to it or takes it over.
        if not (is_admin or sandbox_user):
            return SessionAccess()
        return SessionAccess(view=True, flag=False)
    view = is_admin or owns or operator
    if not view:
        return SessionAccess()
    # Only sandbox sessions may be driven as the customer: an API or widget customer is a real person.
    chat = (is_admin or owns) and session.source == SessionSource.SANDBOX
    return SessionAccess(view=True, chat=chat, operate=is_admin or owns or operator, flag=True)


def session_get_for_user(user: Any, uid: Any, *, need: str = "view") -> tuple[Session, SessionAccess]:
    """The session with public id `uid` and the user's rights on it. NotFound when it does not exist or the
    user may not see it (the two look the same); PermissionDenied when visible but `need` ("view", "chat",
    "operate" or "flag") is not allowed."""
    try:
        session = Session.objects.select_related("agent", "customer", "version", "parent", "created_by").get(uid=uid)
    except (Session.DoesNotExist, ValueError, ValidationError):
        raise NotFound("No such session.") from None
    access = session_access(user, session)
    if not access.view:
        raise NotFound("No such session.")
    if not getattr(access, need):
        raise PermissionDenied(f"You may not {need} in this session.")
    return session, access


def sandbox_sessions(user: Any, *, agent: Agent | None = None) -> QuerySet[Session]:
    """Sessions listed on the sandbox page, most recently active first."""
    if not sandbox_allowed(user):
        return Session.objects.none()
    roles = user_roles(user)
    sessions = Session.objects.all() if Role.ADMIN in roles else Session.objects.filter(created_by_id=user.pk)
    sessions = sessions.exclude(source=SessionSource.EVALUATION)  # a test run's conversations live with the run
    if agent is not None:
        sessions = sessions.filter(agent=agent)
    return (
        sessions.select_related("agent", "customer", "version", "created_by", "parent")
        .annotate(message_count=Count("events", filter=Q(events__kind=EventKind.MESSAGE)))
        .order_by("-updated_at", "-id")
    )


def sandbox_customers(*, limit: int = 200) -> list[Customer]:
    """Test customers a tester may pick: those never seen through the API or the widget (real people are), nor
    made by an evaluation run (one per attempt)."""
    return list(
        Customer.objects.exclude(
            sessions__source__in=[SessionSource.API, SessionSource.WIDGET, SessionSource.EVALUATION]
        )
        .prefetch_related("tags")
        .order_by("name", "id")[: max(1, min(limit, 1000))]
    )


# Statuses the chat keeps as notes in the log; the others (processing, typing, ready...) only drive the
# status line.
CHAT_NOTE_STATUSES = frozenset({"error", "handoff_requested", "human_takeover", "agent_resumed"})


def session_chat_events(session: Session) -> list[Event]:
    """The events the chat shows (messages, tool calls, errors, mode switches), oldest first, with flags."""
    events = Event.objects.filter(session_id=session.pk).prefetch_related("flags").order_by("offset")
    return [event for event in events if event_shown_in_chat(event)]


def event_shown_in_chat(event: Event) -> bool:
    if event.kind != EventKind.STATUS:
        return True
    return isinstance(event.data, dict) and event.data.get("status") in CHAT_NOTE_STATUSES


def session_last_offset(session: Session) -> int:
    return Event.objects.filter(session_id=session.pk).aggregate(last=Max("offset"))["last"] or 0


def session_last_status(session: Session) -> str:
    """The last status the engine reported ("ready" when none)."""
    event = Event.objects.filter(session_id=session.pk, kind=EventKind.STATUS).order_by("-offset").first()
    status = (event.data or {}).get("status") if event is not None else None
    return str(status) if status else "ready"


def session_event(session: Session, *, offset: int) -> Event:
    """One event of the session by offset; NotFound when there is none."""
    event = Event.objects.filter(session_id=session.pk, offset=offset).prefetch_related("flags").first()
    if event is None:
        raise NotFound("No such event.")
    return event


def turn_trace(session: Session, *, turn_id: int) -> tuple[Turn, Trace | None]:
    """A turn of this session and its trace (None while the turn runs); NotFound for another session's turn."""
    turn = Turn.objects.filter(session_id=session.pk, pk=turn_id).select_related("trigger_event").first()
    if turn is None:
        raise NotFound("No such turn.")
    return turn, Trace.objects.filter(turn=turn).first()


def guideline_ids_by_key(agent: Agent, keys: Iterable[str]) -> dict[str, int]:
    """Draft guideline ids of the agent for the given keys (a key missing from the draft has no entry)."""
    wanted = {key for key in keys if isinstance(key, str)}
    if not wanted:
        return {}
    return dict(Guideline.objects.filter(agent=agent, key__in=wanted).values_list("key", "id"))


def flags_for_agent(user: Any, agent: Agent) -> QuerySet[Flag]:
    """Flags on the agent's sessions that the user may see, newest first."""
    visible = sessions_visible_to(user).filter(agent=agent)
    return (
        Flag.objects.filter(session__in=visible)
        .select_related("session", "event", "created_by", "session__customer")
        .order_by("-created_at", "-id")
    )


def version_for_choice(agent: Agent, choice: str | int | None, *, default: str = "draft") -> BehaviorVersion | None:
    """The version a choice names: "draft" (None: the agent's draft), "published", or a version number; None
    or "" means `default`. ValidationFailed (path "version") when the agent has no such version."""
    value = str(default if choice is None or choice == "" else choice).strip().lower()
    if value == "draft":
        return None
    if value == "published":
        if agent.published_version_id is None:
            raise invalid("version", f"agent {agent.name!r} has no published version yet; publish it or run the draft")
        return BehaviorVersion.objects.get(pk=agent.published_version_id)
    if not value.isdigit():
        raise invalid("version", f"unknown version {choice!r} (use draft, published or a version number)")
    version = BehaviorVersion.objects.filter(agent=agent, number=int(value)).first()
    if version is None:
        raise invalid("version", f"agent {agent.name!r} has no version {value}")
    return version


def guideline_texts(session: Session, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Title, condition and action of guidelines by key, as the session's behavior saw them: from its
    version's document, or from the draft when it runs the draft."""
    wanted = {key for key in keys if isinstance(key, str)}
    if not wanted:
        return {}
    if session.version_id is not None:
        document = session.version.document if session.version is not None else {}
        rows = document.get("guidelines", []) if isinstance(document, dict) else []
        return {
            row["key"]: {
                "title": row.get("title") or "",
                "condition": row.get("condition") or "",
                "action": row.get("action"),
            }
            for row in rows
            if isinstance(row, dict) and row.get("key") in wanted
        }
    return {
        key: {"title": title, "condition": condition, "action": action}
        for key, title, condition, action in Guideline.objects.filter(
            agent_id=session.agent_id, key__in=wanted
        ).values_list("key", "title", "condition", "action")
    }
