"""Reads of conversations: the event log after a client's last seen offset, and what the sandbox shows
(who may see which session, session lists, chat events, traces, flags)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from agents.models import Agent
from agents.permissions import Role, user_has_role, user_roles
from behavior.models import BehaviorVersion, Guideline
from config.errors import ValidationFailed
from sessions.models import Customer, Event, EventKind, Flag, Session, SessionSource, Trace, Turn

EVENTS_PAGE_MAX = 1000


def session_events_since(session: Session, *, offset: int, limit: int = 200) -> list[Event]:
    """Events with an offset greater than `offset`, oldest first (offset=0 gives the log from the start)."""
    limit = max(1, min(int(limit), EVENTS_PAGE_MAX))
    return list(Event.objects.filter(session_id=session.pk, offset__gt=max(int(offset), 0)).order_by("offset")[:limit])


# ---------------------------------------------------------------- sandbox: who may see and do what


@dataclass(frozen=True)
class SessionAccess:
    """What one user may do with one session. `view` false means the session must look nonexistent (404)."""

    view: bool = False
    chat: bool = False  # post as the customer, edit and branch, regenerate
    operate: bool = False  # take over, reply as the human agent, hand back
    flag: bool = False


def sandbox_allowed(user: Any) -> bool:
    """The sandbox pages (agent choice, session list, starting sessions) need the tester or admin role."""
    return user_has_role(user, Role.TESTER, Role.ADMIN)


def sessions_visible_to(user: Any) -> QuerySet[Session]:
    """Sessions the user may open: admins all; testers the ones they created; operators any (for takeover)."""
    roles = user_roles(user)
    if Role.ADMIN in roles or Role.OPERATOR in roles:
        return Session.objects.all()
    if Role.TESTER in roles:
        return Session.objects.filter(created_by_id=user.pk)
    return Session.objects.none()


def session_access(user: Any, session: Session) -> SessionAccess:
    """The user's rights on `session` (see SessionAccess); everything false when it is not visible."""
    roles = user_roles(user)
    is_admin = Role.ADMIN in roles
    owns = Role.TESTER in roles and session.created_by_id is not None and session.created_by_id == user.pk
    operator = Role.OPERATOR in roles
    view = is_admin or owns or operator
    if not view:
        return SessionAccess()
    # Only sandbox sessions may be driven as the customer: an API or widget customer is a real person.
    chat = (is_admin or owns) and session.source == SessionSource.SANDBOX
    return SessionAccess(view=True, chat=chat, operate=is_admin or owns or operator, flag=True)


def session_for_user(user: Any, uid: Any) -> tuple[Session, SessionAccess]:
    """The session with public id `uid` and the user's access; Http404 when it does not exist or is not visible."""
    try:
        session = Session.objects.select_related("agent", "customer", "version", "parent", "created_by").get(uid=uid)
    except (Session.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such session.") from None
    access = session_access(user, session)
    if not access.view:
        raise Http404("No such session.")
    return session, access


def sandbox_sessions(user: Any, *, agent: Agent | None = None) -> QuerySet[Session]:
    """Sessions listed on the sandbox page, most recently active first."""
    if not sandbox_allowed(user):
        return Session.objects.none()
    roles = user_roles(user)
    sessions = Session.objects.all() if Role.ADMIN in roles else Session.objects.filter(created_by_id=user.pk)
    if agent is not None:
        sessions = sessions.filter(agent=agent)
    return (
        sessions.select_related("agent", "customer", "version", "created_by", "parent")
        .annotate(message_count=Count("events", filter=Q(events__kind=EventKind.MESSAGE)))
        .order_by("-updated_at", "-id")
    )


def sandbox_customers(*, limit: int = 200) -> list[Customer]:
    """Test customers a tester may pick: those never seen through the API or the widget (real people are)."""
    return list(
        Customer.objects.exclude(sessions__source__in=[SessionSource.API, SessionSource.WIDGET])
        .prefetch_related("tags")
        .order_by("name", "id")[: max(1, min(limit, 1000))]
    )


# Statuses the chat keeps as notes in the log; the others (processing, typing, ready...) only drive the
# status line.
CHAT_NOTE_STATUSES = frozenset({"error", "human_takeover", "agent_resumed"})


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
    """One event of the session by offset; Http404 when there is none."""
    event = Event.objects.filter(session_id=session.pk, offset=offset).prefetch_related("flags").first()
    if event is None:
        raise Http404("No such event.")
    return event


def turn_trace(session: Session, *, turn_id: int) -> tuple[Turn, Trace | None]:
    """A turn of this session and its trace (None while the turn runs); Http404 for another session's turn."""
    turn = Turn.objects.filter(session_id=session.pk, pk=turn_id).select_related("trigger_event").first()
    if turn is None:
        raise Http404("No such turn.")
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


def version_for_choice(agent: Agent, choice: str) -> BehaviorVersion | None:
    """The version a sandbox choice names: "draft" (None), "published", or a version number.
    Raises ValidationFailed when the agent has no such version."""
    value = (choice or "draft").strip().lower()
    if value == "draft":
        return None
    if value == "published":
        if agent.published_version_id is None:
            raise ValidationFailed(f"Agent {agent.name!r} has no published version yet; run the draft instead.")
        return BehaviorVersion.objects.get(pk=agent.published_version_id)
    if not value.isdigit():
        raise ValidationFailed(f"Unknown version {choice!r} (use draft, published or a version number).")
    version = BehaviorVersion.objects.filter(agent=agent, number=int(value)).first()
    if version is None:
        raise ValidationFailed(f"Agent {agent.name!r} has no version {value}.")
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
