"""Handoff: who owns a session (the agent, nobody while a human is awaited, one operator). Every change of owner
is one conditional update, so two operators can never both own a session; each leaves a status event for the
conversation, a Handoff row for the inbox, a broadcast to every inbox and a webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.permissions import Role, user_roles
from config.errors import Conflict, PermissionDenied, ValidationFailed
from sessions.broadcast import event_broadcast_on_commit, inbox_broadcast_on_commit
from sessions.models import (
    HUMAN_MODES,
    EventKind,
    EventSource,
    Handoff,
    HandoffReason,
    OperatorNote,
    Session,
    SessionMode,
    Turn,
    TurnStatus,
    WebhookEventType,
)
from sessions.services.core import event_append

NOTE_MAX_CHARS = 4000
DETAIL_TEXT_MAX_CHARS = 1000


def operator_identity(user: Any) -> dict[str, Any]:
    """How an operator appears in events: id, user name and the display name customers see."""
    if user is None or not getattr(user, "pk", None):
        return {"id": None, "name": "", "display_name": ""}
    full = user.get_full_name() or user.get_username()
    return {"id": user.pk, "name": full[:150], "display_name": (user.first_name or full)[:150]}


def open_handoff(session: Session) -> Handoff | None:
    return Handoff.objects.filter(session_id=session.pk, returned_at__isnull=True).order_by("-requested_at").first()


def handoff_request(
    session: Session, *, reason: str, detail: Mapping[str, Any] | None = None, turn: Turn | None = None
) -> Handoff:
    """Ask for a human: the agent stops (pending turns are superseded) and the session waits for an operator.
    A session already waiting or owned by a human keeps its open handoff (returned as is)."""
    if reason not in HandoffReason.values:
        raise ValidationFailed(f"Unknown handoff reason {reason!r}.")
    clean_detail = _detail(detail or {})
    with transaction.atomic():
        moved = Session.objects.filter(pk=session.pk, mode=SessionMode.AUTO).update(
            mode=SessionMode.WAITING, assigned_to=None, updated_at=timezone.now()
        )
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if not moved:
            existing = open_handoff(locked)
            if existing is not None:
                return existing
        _state_mode(locked, "human")
        _supersede_pending(locked)
        handoff = Handoff.objects.create(session=locked, reason=reason, detail=clean_detail, turn=turn)
        _status(locked, {"status": "handoff_requested", "reason": reason}, turn=turn)
        inbox_broadcast_on_commit(locked.uid, change="waiting", mode=locked.mode)
        _webhook(locked, WebhookEventType.HANDOFF_REQUESTED, {"reason": reason, "detail": clean_detail})
    session.mode = locked.mode
    session.assigned_to_id = None
    return handoff


def handoff_take(session: Session, *, user: Any) -> Handoff:
    """The operator takes the conversation (waiting, or live with the agent): one conditional update, so of
    two operators at once exactly one wins. Conflict naming the owner when someone already has it (or the
    customer ended it); taking one's own again returns its handoff."""
    now = timezone.now()
    owner = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        taken = Session.objects.filter(
            pk=session.pk, mode__in=[SessionMode.AUTO, SessionMode.WAITING], closed_at__isnull=True
        ).update(mode=SessionMode.HUMAN, assigned_to=owner, updated_at=now)
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if not taken and locked.closed_at is not None:
            raise Conflict("The customer ended this conversation.", code="conversation_closed")
        if not taken:
            handoff = open_handoff(locked)
            if locked.assigned_to_id == getattr(owner, "pk", None) and handoff is not None:
                return handoff
            owner = operator_identity(locked.assigned_to)["name"] or "another operator"
            raise Conflict(f"{owner} already handles this conversation.", code="already_taken")
        _state_mode(locked, "human")
        _supersede_pending(locked)
        handoff = open_handoff(locked) or Handoff.objects.create(
            session=locked, reason=HandoffReason.OPERATOR, detail={"message": "An operator took it over."}
        )
        Handoff.objects.filter(pk=handoff.pk).update(taken_by=owner, taken_at=now)
        handoff.taken_by, handoff.taken_at = owner, now
        who = operator_identity(user)
        _status(locked, {"status": "human_takeover", "mode": SessionMode.HUMAN, "operator": who})
        inbox_broadcast_on_commit(locked.uid, change="taken", mode=SessionMode.HUMAN)
        _webhook(locked, WebhookEventType.HANDOFF_TAKEN, {"operator": {"id": who["id"], "name": who["name"]}})
    session.mode, session.assigned_to_id = SessionMode.HUMAN, getattr(owner, "pk", None)
    return handoff


def handoff_return(session: Session, *, user: Any, note: str = "") -> Session:
    """Hand the conversation back to the agent, with an optional note the agent reads on its next turn (the
    customer never sees it). Only the operator who owns it, or an admin; a session the agent already owns is
    returned unchanged."""
    clean_note = (note or "").strip()
    if len(clean_note) > NOTE_MAX_CHARS:
        raise ValidationFailed(
            f"The note is longer than {NOTE_MAX_CHARS} characters.",
            details=[{"path": "note", "message": f"at most {NOTE_MAX_CHARS} characters"}],
        )
    now = timezone.now()
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.mode not in HUMAN_MODES:
            return locked
        is_admin = Role.ADMIN in user_roles(user)
        owner_id = locked.assigned_to_id
        if (
            locked.mode == SessionMode.HUMAN
            and owner_id is not None
            and owner_id != getattr(user, "pk", None)
            and not is_admin
        ):
            raise PermissionDenied("Only the operator who handles this conversation can hand it back.")
        Session.objects.filter(pk=locked.pk).update(mode=SessionMode.AUTO, assigned_to=None, updated_at=now)
        locked.mode, locked.assigned_to_id = SessionMode.AUTO, None
        _state_mode(locked, "auto")
        Handoff.objects.filter(session_id=locked.pk, returned_at__isnull=True).update(
            returned_at=now, returned_by=user if getattr(user, "pk", None) else None, return_note=clean_note
        )
        _status(locked, {"status": "agent_resumed", "mode": SessionMode.AUTO, "operator": operator_identity(user)})
        inbox_broadcast_on_commit(locked.uid, change="returned", mode=SessionMode.AUTO)
    session.mode, session.assigned_to_id = SessionMode.AUTO, None
    return locked


def handback_note_pending(session: Session) -> str:
    """The note of the last hand-back, when no agent turn has run since (the agent reads it once)."""
    handoff = (
        Handoff.objects.filter(session_id=session.pk, returned_at__isnull=False)
        .exclude(return_note="")
        .order_by("-returned_at")
        .first()
    )
    if handoff is None or handoff.returned_at is None:
        return ""
    replied_since = Turn.objects.filter(
        session_id=session.pk, status=TurnStatus.DONE, finished_at__gt=handoff.returned_at
    ).exists()
    return "" if replied_since else handoff.return_note


def operator_note_create(session: Session, *, user: Any, text: str) -> OperatorNote:
    """An internal note on the conversation (never shown to the customer)."""
    clean = (text or "").strip() if isinstance(text, str) else ""
    if not clean:
        raise ValidationFailed("Write the note first.", details=[{"path": "text", "message": "required"}])
    if len(clean) > NOTE_MAX_CHARS:
        raise ValidationFailed(
            f"The note is longer than {NOTE_MAX_CHARS} characters.",
            details=[{"path": "text", "message": f"at most {NOTE_MAX_CHARS} characters"}],
        )
    return OperatorNote.objects.create(session=session, author=user if getattr(user, "pk", None) else None, text=clean)


def _detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key in ("tool", "message", "reason"):
        value = detail.get(key)
        if isinstance(value, str) and value:
            clean[key] = value[:DETAIL_TEXT_MAX_CHARS]
    guidelines = detail.get("guidelines")
    if isinstance(guidelines, list | tuple):
        clean["guidelines"] = [str(key)[:200] for key in guidelines][:20]
    return clean


def _state_mode(session: Session, mode: str) -> None:
    state = dict(session.state or {})
    state["mode"] = mode
    Session.objects.filter(pk=session.pk).update(state=state)
    session.state = state


def _supersede_pending(session: Session) -> None:
    Turn.objects.filter(session_id=session.pk, status=TurnStatus.PENDING).update(
        status=TurnStatus.SUPERSEDED, finished_at=timezone.now()
    )


def _status(session: Session, data: dict[str, Any], *, turn: Turn | None = None) -> None:
    event = event_append(session, kind=EventKind.STATUS, source=EventSource.SYSTEM, data=data, turn=turn)
    event.session = session
    event_broadcast_on_commit(event)


def _webhook(session: Session, event_type: str, data: dict[str, Any]) -> None:
    from sessions.webhooks.services import webhooks_emit_on_commit

    webhooks_emit_on_commit(
        agent_id=session.agent_id,
        event_type=event_type,
        data={"session": {"uid": str(session.uid), "source": session.source, "mode": session.mode}, **data},
    )
