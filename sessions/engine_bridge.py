"""From a stored session to the engine's inputs: the behavior snapshot (cached per published version and per
draft fingerprint), the interaction from the event log, the session state, and the ports."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from agents.embeddings import embedder_from_settings
from agents.llm.factory import llm_for_agent
from agents.tools.runner import agent_tool_runner_from_document
from behavior.engine.ports import LLM, Cancellation, Emitter, ToolRunner
from behavior.engine.types import (
    CustomerInfo,
    EnginePorts,
    Interaction,
    InteractionEvent,
    SessionState,
    Snapshot,
)
from behavior.lint.validation import document_runnable
from behavior.models import ContextVariableValue, VariableScope
from behavior.services import agent_export_document
from behavior.snapshot import document_fingerprint, snapshot_from_document
from sessions.models import HUMAN_MODES, Event, EventKind, Session
from sessions.services.handoff import handback_note_pending

SESSION_OVERRIDABLE = frozenset({"composition_mode"})  # agent settings a session may run with instead
HISTORY_MAX_EVENTS = 500  # the engine summarises older history; this bounds what one turn loads
SNAPSHOT_CACHE_SIZE = 64


@dataclass(frozen=True)
class TurnInputs:
    """Everything a turn needs that comes from the database, read before the engine starts."""

    snapshot: Snapshot
    document: Mapping[str, Any]
    interaction: Interaction
    state: SessionState


class SystemClock:
    """The Clock port on the real clock."""

    def now(self) -> datetime:
        return timezone.now()

    def monotonic(self) -> float:
        return time.monotonic()


class _SnapshotCache:
    """Snapshots by key: ("version", id) for immutable published versions, ("draft", fingerprint) for drafts.
    Engine caches (the embedding index) are keyed by the snapshot, so reusing it saves them too."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, Any], tuple[Snapshot, Mapping[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, Any]) -> tuple[Snapshot, Mapping[str, Any]] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[str, Any], item: tuple[Snapshot, Mapping[str, Any]]) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_snapshots = _SnapshotCache(SNAPSHOT_CACHE_SIZE)


def snapshot_cache_clear() -> None:
    _snapshots.clear()


def session_snapshot(session: Session) -> tuple[Snapshot, Mapping[str, Any]]:
    """The snapshot the session runs on (its published version, or the agent's draft) and its document, with the
    session's agent overrides (an evaluation case's) applied."""
    snapshot, document = _version_or_draft_snapshot(session)
    overrides = {
        name: value for name, value in (session.overrides or {}).items() if name in SESSION_OVERRIDABLE and value
    }
    if overrides:  # same fingerprint: the engine's caches (embedding index) still apply
        snapshot = dataclasses.replace(snapshot, agent=dataclasses.replace(snapshot.agent, **overrides))
    return snapshot, document


def _version_or_draft_snapshot(session: Session) -> tuple[Snapshot, Mapping[str, Any]]:
    version = session.version if session.version_id is not None else None
    if version is not None:
        key: tuple[str, Any] = ("version", version.pk)
        cached = _snapshots.get(key)
        if cached is not None:
            return cached
        document = version.document
    else:
        document = agent_export_document(session.agent)
        key = ("draft", document_fingerprint(document))
        cached = _snapshots.get(key)
        if cached is not None:
            return cached
        # A half-finished edit (a journey with no states yet) must not break every sandbox turn: invalid
        # entities are left out of the draft's snapshot; the lint names them and blocks publishing.
        document, _left_out = document_runnable(document)
    item = (snapshot_from_document(document), document)
    _snapshots.put(key, item)
    return item


def session_interaction(session: Session) -> Interaction:
    """The conversation so far (messages, tool events and custom events; statuses are left out), the
    last HISTORY_MAX_EVENTS of it, who the customer is, and a human colleague's hand-back note that no agent
    turn has read yet."""
    rows = list(
        Event.objects.filter(session_id=session.pk)
        .exclude(kind=EventKind.STATUS)
        .order_by("-offset")[:HISTORY_MAX_EVENTS]
    )
    rows.reverse()
    events = tuple(
        InteractionEvent(
            offset=row.offset,
            source=row.source,  # type: ignore[arg-type]  # EventSource choices match the engine's literal
            kind=row.kind,
            text=str(row.data.get("text", "")) if isinstance(row.data, dict) else "",
            data=row.data if isinstance(row.data, dict) else {},
            created_at=row.created_at,
        )
        for row in rows
    )
    return Interaction(
        session_id=str(session.uid),
        customer=_customer_info(session),
        events=events,
        handback_note=handback_note_pending(session),
    )


def _customer_info(session: Session) -> CustomerInfo:
    customer = session.customer
    values = ContextVariableValue.objects.filter(
        scope=VariableScope.CUSTOMER, customer_id=customer.pk, variable__agent_id=session.agent_id
    ).values_list("variable__name", "value")
    return CustomerInfo(
        id=customer.external_id or str(customer.pk),
        name=customer.name,
        tags=tuple(sorted(customer.tags.values_list("name", flat=True))),
        metadata=dict(customer.metadata or {}),
        variables=dict(values),
    )


def session_state(session: Session) -> SessionState:
    """The engine state stored on the session; the session's mode column is the truth for the mode."""
    state = SessionState.from_dict(session.state or {})
    mode = "human" if session.mode in HUMAN_MODES else "auto"  # waiting for a human is silent too
    if state.mode != mode:
        state = SessionState.from_dict({**state.to_dict(), "mode": mode})
    return state


def turn_inputs(session: Session) -> TurnInputs:
    snapshot, document = session_snapshot(session)
    return TurnInputs(
        snapshot=snapshot,
        document=document,
        interaction=session_interaction(session),
        state=session_state(session),
    )


def llm_port_for(snapshot: Snapshot) -> LLM:
    """The agent's model. Tests replace this function to script the model."""
    return llm_for_agent(model=snapshot.agent.model, profile=snapshot.agent.llm_profile)


def tool_runner_for(document: Mapping[str, Any]) -> ToolRunner:
    return agent_tool_runner_from_document(document)


def turn_ports(
    inputs: TurnInputs, *, emitter: Emitter, cancellation: Cancellation, tools: ToolRunner | None = None
) -> EnginePorts:
    return EnginePorts(
        llm=llm_port_for(inputs.snapshot),
        embedder=embedder_from_settings(),
        tools=tools if tools is not None else tool_runner_for(inputs.document),
        emitter=emitter,
        clock=SystemClock(),
        cancellation=cancellation,
    )


__all__ = [
    "SystemClock",
    "TurnInputs",
    "llm_port_for",
    "session_interaction",
    "session_snapshot",
    "session_state",
    "snapshot_cache_clear",
    "tool_runner_for",
    "turn_inputs",
    "turn_ports",
]
