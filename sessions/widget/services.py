"""What a widget customer can do: start as a visitor (anonymous or identified), open a conversation on the agent's
published version, write, ask for a person, end the conversation and rate it. Every function takes the visitor
the caller proved with a token, so a visitor only ever reaches its own sessions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import WidgetKey
from config.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from sessions.broadcast import event_broadcast_on_commit, inbox_broadcast_on_commit
from sessions.models import (
    Event,
    EventKind,
    EventSource,
    HandoffReason,
    Rating,
    RatingScale,
    Session,
    SessionSource,
    WebhookEventType,
    WidgetVisitor,
)
from sessions.services.core import event_append, session_create
from sessions.services.customers import customer_create
from sessions.services.messages import customer_message_post
from sessions.widget.identity import identity_check
from sessions.widget.security import new_session_rate_check
from sessions.widget.tokens import token_issue, token_read

ANONYMOUS_NAME = "Website visitor"
EXTERNAL_ID_MAX_CHARS = 200
NAME_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254
RATING_COMMENT_MAX_CHARS = 2000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNAVAILABLE_MESSAGE = "This assistant is not available yet. Please come back later."


@dataclass(frozen=True)
class Identity:
    external_id: str
    name: str = ""
    email: str = ""
    signature: str = ""


@dataclass(frozen=True)
class VisitorStart:
    visitor: WidgetVisitor
    token: str
    expires_at: datetime
    session: Session | None


def identity_parse(data: Any) -> Identity | None:
    """The `identity` object of a request ({externalId, name, email, token}); None for null. ValidationFailed
    names the field."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ValidationFailed("The identity must be an object.", details=[{"path": "identity", "message": "object"}])
    external = data.get("externalId")
    if not isinstance(external, str) or not external.strip() or len(external.strip()) > EXTERNAL_ID_MAX_CHARS:
        raise _invalid("identity.externalId", f"a text of 1 to {EXTERNAL_ID_MAX_CHARS} characters")
    name, email, signature = data.get("name") or "", data.get("email") or "", data.get("token") or ""
    if not all(isinstance(value, str) for value in (name, email, signature)):
        raise _invalid("identity", "name, email and token are texts")
    if len(name.strip()) > NAME_MAX_CHARS:
        raise _invalid("identity.name", f"at most {NAME_MAX_CHARS} characters")
    email = email.strip()
    if email and (len(email) > EMAIL_MAX_CHARS or not EMAIL.match(email)):
        raise _invalid("identity.email", "not an e-mail address")
    return Identity(external_id=external.strip(), name=name.strip(), email=email, signature=signature.strip())


def _invalid(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{path}: {message}.", details=[{"path": path, "message": message}])


def widget_visitor_from_token(*, key: WidgetKey, token: str) -> WidgetVisitor:
    """The visitor a token stands for; Unauthorized (token_invalid) otherwise."""
    claims = token_read(token, key=key)
    visitor = WidgetVisitor.objects.select_related("customer").filter(uid=claims.visitor_uid, agent=key.agent).first()
    if visitor is None:
        raise Unauthorized("The customer token names nobody; start again.", code="token_invalid")
    return visitor


def widget_visitor_start(*, key: WidgetKey, token: str | None, identity: Identity | None) -> VisitorStart:
    """Who the browser's customer is, with a fresh token and their open conversation (None when there is none).

    A valid token keeps its visitor unless `identity` names someone else: then (and for a first visit) the visitor
    of that identity, verified with the key's secret (see sessions.widget.identity), is used or created. An
    invalid token is dropped, not refused. An unverified claim can never open a visitor that was once verified.
    """
    current: WidgetVisitor | None = None
    if token:
        try:
            current = widget_visitor_from_token(key=key, token=token)
        except Unauthorized:
            current = None
    if identity is None:
        visitor = current if current is not None else _anonymous_visitor(key)
    else:
        verified = identity_check(
            secret=key.identity_secret,
            external_id=identity.external_id,
            signature=identity.signature or None,
            enforce=key.enforce_identity,
        )
        visitor = _identified_visitor(key, identity, verified=verified)
    issued, expires_at = token_issue(visitor_uid=str(visitor.uid), key=key)
    return VisitorStart(visitor=visitor, token=issued, expires_at=expires_at, session=widget_open_session(visitor))


def _anonymous_visitor(key: WidgetKey) -> WidgetVisitor:
    with transaction.atomic():
        customer = customer_create(name=ANONYMOUS_NAME, metadata={"widget": {"agent": key.agent_id}})
        return WidgetVisitor.objects.create(agent=key.agent, customer=customer)


def _identified_visitor(key: WidgetKey, identity: Identity, *, verified: bool) -> WidgetVisitor:
    with transaction.atomic():
        visitor = (
            WidgetVisitor.objects.select_for_update()
            .select_related("customer")
            .filter(agent=key.agent, external_id=identity.external_id)
            .first()
        )
        if visitor is None:
            customer = customer_create(
                name=identity.name or identity.external_id[:NAME_MAX_CHARS],
                metadata={"widget": {"agent": key.agent_id, "external_id": identity.external_id}},
            )
            return WidgetVisitor.objects.create(
                agent=key.agent,
                customer=customer,
                external_id=identity.external_id,
                email=identity.email,
                verified=verified,
            )
        if visitor.verified and not verified:
            raise Unauthorized("This customer's conversations need a signed identity.", code="identity_invalid")
        changed = False
        if identity.email and identity.email != visitor.email:
            visitor.email, changed = identity.email, True
        if verified and not visitor.verified:
            visitor.verified, changed = True, True
        if changed:
            visitor.save(update_fields=["email", "verified", "last_seen_at"])
        if identity.name and identity.name != visitor.customer.name:
            visitor.customer.name = identity.name
            visitor.customer.save(update_fields=["name"])
        return visitor


def widget_open_session(visitor: WidgetVisitor) -> Session | None:
    """The visitor's conversation that is still open (the most recent one)."""
    return (
        Session.objects.select_related("assigned_to")
        .filter(
            agent_id=visitor.agent_id,
            customer_id=visitor.customer_id,
            source=SessionSource.WIDGET,
            closed_at__isnull=True,
        )
        .order_by("-updated_at", "-id")
        .first()
    )


def widget_session_open(*, visitor: WidgetVisitor, address: str) -> tuple[Session, bool]:
    """The visitor's open conversation, or a new one on the agent's published version: (session, created).
    Conflict (agent_unavailable) when the agent has no published version."""
    existing = widget_open_session(visitor)
    if existing is not None:
        return existing, False
    agent = visitor.agent
    if agent.published_version_id is None:
        raise Conflict(UNAVAILABLE_MESSAGE, code="agent_unavailable")
    new_session_rate_check(address)
    with transaction.atomic():
        # The visitor's row serialises two first messages sent at once: one conversation, not two.
        WidgetVisitor.objects.select_for_update().filter(pk=visitor.pk).first()
        existing = widget_open_session(visitor)
        if existing is not None:
            return existing, False
        session = session_create(
            agent=agent,
            customer=visitor.customer,
            source=SessionSource.WIDGET,
            version=agent.published_version,
            title=f"{visitor.customer.name} · website"[:200],
        )
    return session, True


def widget_session_get(*, visitor: WidgetVisitor, uid: Any) -> Session:
    """One of the visitor's own widget sessions; NotFound for any other."""
    try:
        session = (
            Session.objects.select_related("assigned_to", "agent")
            .filter(
                uid=uid,
                agent_id=visitor.agent_id,
                customer_id=visitor.customer_id,
                source=SessionSource.WIDGET,
            )
            .first()
        )
    except (ValueError, TypeError, DjangoValidationError):  # a malformed uuid
        session = None
    if session is None:
        raise NotFound("No such conversation.")
    return session


def widget_message_post(session: Session, *, text: Any) -> Event:
    """The customer's message (see customer_message_post for the limits); a closed conversation takes none."""
    if session.closed_at is not None:
        raise Conflict("This conversation has ended; start a new one.", code="conversation_closed")
    if isinstance(text, str) and text and not text.strip():
        raise ValidationFailed(
            "The message is only spaces or line breaks, so it was not sent.",
            details=[{"path": "text", "message": "blank"}],
        )
    return customer_message_post(session, text=text)


def widget_handoff_request(session: Session) -> Session:
    """The customer asks for a person: the session waits for an operator (the agent stops replying)."""
    from sessions.services.handoff import handoff_request

    if session.closed_at is not None:
        raise Conflict("This conversation has ended; start a new one.", code="conversation_closed")
    handoff_request(
        session, reason=HandoffReason.CUSTOMER, detail={"message": "The customer asked for a person."}, turn=None
    )
    session.refresh_from_db()
    return session


def widget_session_close(session: Session) -> Session:
    """The customer ends the conversation: no more messages; the next one starts a new conversation."""
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.closed_at is not None:
            return locked
        now = timezone.now()
        Session.objects.filter(pk=locked.pk).update(closed_at=now, updated_at=now)
        event = event_append(locked, kind=EventKind.STATUS, source=EventSource.SYSTEM, data={"status": "closed"})
        event.session = locked
        event_broadcast_on_commit(event)
        inbox_broadcast_on_commit(locked.uid, change="closed", mode=locked.mode)
    session.refresh_from_db()
    return session


def widget_rating_set(session: Session, *, scale: Any, score: Any, comment: Any = "") -> Rating:
    """Rate the conversation (again replaces): thumbs 0 (down) or 1 (up), or five 1 to 5, with a comment."""
    if scale not in RatingScale.values:
        raise _invalid("scale", "thumbs or five")
    allowed = (0, 1) if scale == RatingScale.THUMBS else (1, 2, 3, 4, 5)
    if isinstance(score, bool) or not isinstance(score, int) or score not in allowed:
        raise _invalid("score", f"one of {', '.join(str(value) for value in allowed)}")
    text = comment if isinstance(comment, str) else ""
    if len(text.strip()) > RATING_COMMENT_MAX_CHARS:
        raise _invalid("comment", f"at most {RATING_COMMENT_MAX_CHARS} characters")
    if not Event.objects.filter(session_id=session.pk, kind=EventKind.MESSAGE).exists():
        raise Conflict("There is nothing to rate yet.", code="nothing_to_rate")
    with transaction.atomic():
        rating, _ = Rating.objects.update_or_create(
            session=session, defaults={"scale": scale, "score": score, "comment": text.strip()}
        )
        from sessions.webhooks.services import webhooks_emit_on_commit

        webhooks_emit_on_commit(
            agent_id=session.agent_id,
            event_type=WebhookEventType.CONVERSATION_RATED,
            data={
                "session": {"uid": str(session.uid), "source": session.source},
                "rating": {"scale": rating.scale, "score": rating.score, "comment": rating.comment},
            },
        )
    return rating
