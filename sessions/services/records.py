"""Managing customers and sessions as records (the REST API's CRUD), and rewinding a session's event log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from agents.models import Agent
from behavior.models import BehaviorVersion
from behavior.services.rows import (
    conflict_on_integrity_error,
    invalid,
    row_clean,
    tags_resolve,
    unique_or_conflict,
    validation_details,
    validation_failed,
)
from config.errors import Conflict, ValidationFailed
from sessions.broadcast import rewind_broadcast_on_commit
from sessions.models import Customer, Event, Session, SessionSource, Trace, Turn, TurnStatus
from sessions.services.core import CUSTOMER_METADATA_MAX_BYTES, customer_create, session_create
from sessions.services.sandbox import session_state_before

DRAFT = "draft"


def _metadata_check(metadata: Any) -> None:
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    if size > CUSTOMER_METADATA_MAX_BYTES:
        raise invalid("metadata", f"the metadata is {size} bytes; the limit is {CUSTOMER_METADATA_MAX_BYTES}")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def customer_register(*, data: Mapping[str, Any]) -> Customer:
    """Create a customer (`name`, `external_id`, `metadata`, `tags` names); Conflict for a taken external id."""
    external_id = data.get("external_id") or None
    if external_id is not None:
        unique_or_conflict(Customer.objects.all(), field="external_id", value=external_id, what="A customer")
    metadata = data.get("metadata") or {}
    _metadata_check(metadata)
    tags = tags_resolve(list(data.get("tags") or []))
    try:
        with conflict_on_integrity_error(f"A customer with external id {external_id!r} already exists."):
            return customer_create(name=data.get("name") or "", external_id=external_id, metadata=metadata, tags=tags)
    except DjangoValidationError as error:
        raise validation_failed(validation_details(error)) from None


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def customer_update(customer: Customer, *, data: Mapping[str, Any]) -> Customer:
    """Change the given fields; `tags`, when present, replaces the customer's tags."""
    if "name" in data:
        customer.name = data["name"]
    if "external_id" in data:
        customer.external_id = data["external_id"] or None
        if customer.external_id is not None:
            unique_or_conflict(
                Customer.objects.all(),
                field="external_id",
                value=customer.external_id,
                what="A customer",
                exclude=customer.pk,
            )
    if "metadata" in data:
        _metadata_check(data["metadata"])
        customer.metadata = data["metadata"]
    tags = tags_resolve(list(data["tags"])) if data.get("tags") is not None else None
    row_clean(customer)
    with conflict_on_integrity_error(f"A customer with external id {customer.external_id!r} already exists."):
        customer.save()
        if tags is not None:
            customer.tags.set(tags)
    return customer


def customer_delete(customer: Customer) -> None:
    """Delete a customer with their sessions and per-customer variable values."""
    customer.delete()


def session_open(*, agent: Agent, customer: Customer, version: int | str | None, user: Any, title: str = "") -> Session:
    """Open an API session. `version`: a version number, "draft", or None for the agent's published version
    (ValidationFailed when the agent has none)."""
    chosen: BehaviorVersion | None
    if version == DRAFT:
        chosen = None
    elif version is None:
        if agent.published_version_id is None:
            raise invalid("version", f'agent {agent.name!r} has no published version; publish it or pass "draft"')
        chosen = BehaviorVersion.objects.get(pk=agent.published_version_id)
    else:
        chosen = BehaviorVersion.objects.filter(agent=agent, number=version).first()
        if chosen is None:
            raise invalid("version", f"agent {agent.name!r} has no version {version}")
    return session_create(
        agent=agent, customer=customer, source=SessionSource.API, created_by=user, version=chosen, title=title
    )


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
