"""REST API of customers, sessions, messages and the event log (with long polling)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from agents.selectors import agent_get
from config.api_auth import (
    CONVERSATION_OPERATE,
    CONVERSATION_READ,
    CONVERSATION_WRITE,
    api_require_role,
    api_user,
)
from config.api_schemas import MAX_ID, Page, page_of, patch_of, responses
from config.errors import PermissionDenied
from sessions.models import Event, Session, SessionSource
from sessions.schemas import (
    CustomerFilter,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    EventOut,
    EventsDeletedOut,
    EventsDeleteQuery,
    EventsOut,
    EventsQuery,
    MessageIn,
    OperatorMessageIn,
    SessionFilter,
    SessionIn,
    SessionOut,
    SessionPatch,
)
from sessions.selectors import (
    customer_get,
    customer_list,
    session_events_since,
    session_get,
    session_list,
    sessions_visible_to,
    version_for_choice,
)
from sessions.services.core import session_create
from sessions.services.customers import customer_create, customer_delete, customer_update
from sessions.services.messages import customer_message_post, operator_message_post, session_mode_set
from sessions.services.records import session_delete, session_rewind, session_update

router = Router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
# How often a long poll looks for new events: cheap (one indexed EXISTS query) and quick enough for a chat.
LONG_POLL_INTERVAL_SECONDS = 0.25


# --------------------------------------------------------------------------------------------- customers


@router.get("/customers", response=responses({200: Page[CustomerOut]}), tags=["customers"])
def customers_list(request: HttpRequest, filters: Query[CustomerFilter]) -> Any:
    api_require_role(request, CONVERSATION_READ)
    customers = customer_list(tag=filters.tag, external_id=filters.external_id, q=filters.q)
    return page_of(customers, filters)


@router.post("/customers", response=responses({201: CustomerOut}), tags=["customers"])
def customers_create(request: HttpRequest, payload: CustomerIn) -> Any:
    api_require_role(request, CONVERSATION_WRITE)
    customer = customer_create(**payload.model_dump())
    return Status(201, customer_get(customer.pk))


@router.get("/customers/{int:customer_id}", response=responses({200: CustomerOut}), tags=["customers"])
def customers_get(request: HttpRequest, customer_id: Id) -> Any:
    api_require_role(request, CONVERSATION_READ)
    return customer_get(customer_id)


@router.patch("/customers/{int:customer_id}", response=responses({200: CustomerOut}), tags=["customers"])
def customers_update(request: HttpRequest, customer_id: Id, payload: CustomerPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, CONVERSATION_WRITE)
    customer = customer_update(customer_get(customer_id), data=patch_of(payload).changes())
    return customer_get(customer.pk)


@router.delete("/customers/{int:customer_id}", response=responses({204: None}), tags=["customers"])
def customers_delete(request: HttpRequest, customer_id: Id) -> Any:
    """Delete a customer with their sessions."""
    api_require_role(request, CONVERSATION_WRITE)
    customer_delete(customer_get(customer_id))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------- sessions


def _visible_session(request: HttpRequest, uid: str) -> Session:
    """The session if the key's user may see it (a tester's key: the sessions that tester created), else 404."""
    return session_get(uid, visible_to=sessions_visible_to(request.user))


@router.get("/sessions", response=responses({200: Page[SessionOut]}), tags=["sessions"])
def sessions_list(request: HttpRequest, filters: Query[SessionFilter]) -> Any:
    """Sessions, most recently active first; filterable by agent, customer, mode and source."""
    api_require_role(request, CONVERSATION_READ)
    sessions = session_list(
        visible_to=sessions_visible_to(request.user),
        agent_id=filters.agent,
        customer_id=filters.customer,
        mode=filters.mode,
        source=filters.source,
    )
    return page_of(sessions, filters)


@router.post("/sessions", response=responses({201: SessionOut}), tags=["sessions"])
def sessions_create(request: HttpRequest, payload: SessionIn) -> Any:
    """Open a session of an agent with a customer; it runs the published version unless `version` says
    otherwise ("draft" or a version number)."""
    api_require_role(request, CONVERSATION_WRITE)
    agent = agent_get(payload.agent)
    session = session_create(
        agent=agent,
        customer=customer_get(payload.customer),
        source=SessionSource.API,
        created_by=api_user(request),
        version=version_for_choice(agent, payload.version, default="published"),
        title=payload.title,
    )
    return Status(201, session_get(str(session.uid)))


@router.get("/sessions/{uid}", response=responses({200: SessionOut}), tags=["sessions"])
def sessions_get(request: HttpRequest, uid: str) -> Any:
    api_require_role(request, CONVERSATION_READ)
    return _visible_session(request, uid)


@router.patch("/sessions/{uid}", response=responses({200: SessionOut}), tags=["sessions"])
def sessions_update(request: HttpRequest, uid: str, payload: SessionPatch) -> Any:
    """Change the title (tester), or the mode (tester, operator): `human` hands the session to a human
    operator, `auto` gives it back to the agent."""
    changes = payload.model_dump(include=set(payload.model_fields_set), exclude_none=True)
    api_require_role(request, CONVERSATION_WRITE if "title" in changes else CONVERSATION_OPERATE)
    session = _visible_session(request, uid)
    if "title" in changes:
        session = session_update(session, data={"title": changes["title"]})
    if "mode" in changes:
        session = session_mode_set(session, mode=changes["mode"], user=api_user(request))
    return _visible_session(request, uid)


@router.delete("/sessions/{uid}", response=responses({204: None}), tags=["sessions"])
def sessions_delete(request: HttpRequest, uid: str) -> Any:
    api_require_role(request, CONVERSATION_WRITE)
    session_delete(_visible_session(request, uid))
    return Status(204, None)


# ------------------------------------------------------------------------------------ messages and events


@router.post("/sessions/{uid}/messages", response=responses({202: EventOut}), tags=["events"])
def messages_post(request: HttpRequest, uid: str, payload: MessageIn) -> Any:
    """Post a customer message. Answers 202 with the stored event; the agent's reply arrives as later
    events (poll `GET /sessions/{uid}/events?after=<offset>&wait=20`)."""
    api_require_role(request, CONVERSATION_WRITE)
    session = _visible_session(request, uid)
    if session.source == SessionSource.WIDGET:
        # A widget session's customer is a real person talking through the widget; nobody writes for them.
        raise PermissionDenied("Only the customer writes in a widget session (through the widget).")
    event = customer_message_post(session, text=payload.text, metadata=payload.metadata)
    return Status(202, Event.objects.select_related("session").get(pk=event.pk))


@router.post("/sessions/{uid}/operator-messages", response=responses({201: EventOut}), tags=["events"])
def operator_messages_post(request: HttpRequest, uid: str, payload: OperatorMessageIn) -> Any:
    """Write as the human operator; the session must be in human mode (409 otherwise)."""
    api_require_role(request, CONVERSATION_OPERATE)
    event = operator_message_post(_visible_session(request, uid), text=payload.text, user=api_user(request))
    return Status(201, Event.objects.select_related("session").get(pk=event.pk))


def _events_after(request: HttpRequest, uid: str, after: int, limit: int) -> tuple[Session, list[Event]]:
    api_require_role(request, CONVERSATION_READ)
    session = _visible_session(request, uid)
    events = session_events_since(session, offset=after, limit=limit)
    for event in events:
        event.session = session
    return session, events


def _has_events_after(session: Session, after: int) -> bool:
    return Event.objects.filter(session_id=session.pk, offset__gt=after).exists()


@router.get("/sessions/{uid}/events", response=responses({200: EventsOut}), tags=["events"])
async def events_list(request: HttpRequest, uid: str, query: Query[EventsQuery]) -> Any:
    """Events with an offset greater than `after`, oldest first. With `wait`, when there are none yet,
    the request is held until one arrives or `wait` seconds pass (long polling)."""
    session, events = await sync_to_async(_events_after)(request, uid, query.after, query.limit)
    deadline = time.monotonic() + query.wait
    while not events and time.monotonic() < deadline:
        await asyncio.sleep(min(LONG_POLL_INTERVAL_SECONDS, max(deadline - time.monotonic(), 0)))
        if await sync_to_async(_has_events_after)(session, query.after):
            session, events = await sync_to_async(_events_after)(request, uid, query.after, query.limit)
    return {"events": events, "last_offset": events[-1].offset if events else query.after}


@router.delete("/sessions/{uid}/events", response=responses({200: EventsDeletedOut}), tags=["events"])
def events_delete(request: HttpRequest, uid: str, query: Query[EventsDeleteQuery]) -> Any:
    """Rewind: delete the events with an offset ≥ `from` (and the turns they triggered). Refused (409)
    while the agent is answering."""
    api_require_role(request, CONVERSATION_WRITE)
    deleted = session_rewind(_visible_session(request, uid), from_offset=query.from_)
    return {"deleted": deleted}
