"""What a widget customer sees of a session: conversation and a few statuses, never tool calls, traces, error
details or internal notes (docs/widget.md, "Events a customer sees")."""

from __future__ import annotations

from typing import Any

from sessions.models import Event, EventKind, EventSource, Session

CUSTOMER_SOURCES = frozenset({EventSource.CUSTOMER, EventSource.AGENT, EventSource.HUMAN_OPERATOR})
# Stored status → what the widget is told.
STATUS_FOR_CUSTOMER = {
    "processing": "processing",
    "typing": "typing",
    "ready": "ready",
    "error": "error",
    "handoff_requested": "waiting",
    "human_takeover": "human_joined",
    "agent_resumed": "agent_resumed",
    "closed": "closed",
}


def operator_display_name(user: Any) -> str:
    """How a customer sees an operator: first name, else full name, else user name."""
    if user is None:
        return ""
    return (getattr(user, "first_name", "") or user.get_full_name() or user.get_username())[:150]


def customer_event_dict(event: Event | dict[str, Any]) -> dict[str, Any] | None:
    """The customer-visible form of a stored event (a model row or its sessions.serializers wire form), or None
    for what a customer must not see."""
    data: dict[str, Any]
    if isinstance(event, Event):
        offset, kind, source = event.offset, event.kind, event.source
        data = event.data if isinstance(event.data, dict) else {}
        created = event.created_at.isoformat() if event.created_at else None
    else:
        offset, kind, source = int(event["offset"]), event["kind"], event["source"]
        raw = event.get("data")
        data = raw if isinstance(raw, dict) else {}
        created = event.get("created_at")
    if kind == EventKind.MESSAGE and source in CUSTOMER_SOURCES:
        shown: dict[str, Any] = {
            "offset": offset,
            "kind": "message",
            "source": source,
            "text": str(data.get("text", "")),
            "message_id": str(data.get("message_id") or f"event-{offset}"),
            "created_at": created,
        }
        if source == EventSource.HUMAN_OPERATOR:
            shown["operator"] = {"name": _operator_name(data)}
        return shown
    if kind == EventKind.STATUS:
        status = STATUS_FOR_CUSTOMER.get(str(data.get("status")))
        if status is None:
            return None
        shown = {"offset": offset, "kind": "status", "status": status, "created_at": created}
        if status == "human_joined":
            shown["operator"] = {"name": _operator_name(data)}
        return shown
    return None


def _operator_name(data: dict[str, Any]) -> str:
    """The display name of the operator an event names (never their id or user name when a display name exists)."""
    operator = data.get("operator")
    if not isinstance(operator, dict):
        return ""
    return str(operator.get("display_name") or operator.get("name") or "")[:150]


def customer_session_dict(session: Session, *, last_offset: int) -> dict[str, Any]:
    rating = getattr(session, "rating", None)  # the reverse one-to-one raises AttributeError when absent
    operator = session.assigned_to if session.assigned_to_id else None
    return {
        "uid": str(session.uid),
        "mode": session.mode,
        "closed": session.closed_at is not None,
        "last_offset": last_offset,
        "rating": {"scale": rating.scale, "score": rating.score, "comment": rating.comment} if rating else None,
        "operator": {"name": operator_display_name(operator)} if operator is not None else None,
        "websocket": f"/ws/widget/sessions/{session.uid}/",
    }
