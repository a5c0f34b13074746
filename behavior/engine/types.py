"""The engine's data: a frozen snapshot of one behavior version, the interaction, the session state,
the engine configuration and the turn result. Everything here is a frozen dataclass (or JSON)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from behavior.engine.ports import LLM, Cancellation, Clock, Embedder, Emitter, ToolRunner

CompositionMode = Literal["fluid", "composited", "strict"]
Criticality = Literal["low", "medium", "high"]
RelationshipKind = Literal[
    "entails", "overrides", "depends_on", "depends_on_any", "disambiguates", "reevaluate_after", "tools_overlap"
]
EntityType = Literal["guideline", "tag", "journey", "tool"]
StateKind = Literal["chat", "tool", "fork", "end"]
ParameterType = Literal["str", "int", "float", "bool", "date", "datetime", "enum", "list"]
FieldKind = Literal["tool", "generative", "variable"]
EventSource = Literal["customer", "agent", "human_operator", "system"]
SessionMode = Literal["auto", "human"]
TurnOutcome = Literal["replied", "superseded", "human_mode", "handed_off", "failed"]

JOURNEY_TAG_PREFIX = "journey:"


# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class AgentSettings:
    name: str
    description: str = ""
    model: str = "gpt-4o-mini"
    temperature: float = 0.2
    llm_profile: str = "default"
    composition_mode: CompositionMode = "fluid"
    no_match_reply: str = "Sorry, I can't help with that here."
    max_preparation_iterations: int = 2
    moderation: bool = False
    preamble: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guideline:
    """When `condition`, then `action`; with no action it is an observation."""

    key: str
    condition: str
    action: str | None = None
    title: str = ""
    description: str = ""
    criticality: Criticality = "medium"
    priority: int = 0
    enabled: bool = True
    track: bool = True
    continuous: bool = False
    tags: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_observation(self) -> bool:
        return not (self.action or "").strip()


@dataclass(frozen=True)
class EntityRef:
    type: EntityType
    ref: str


@dataclass(frozen=True)
class Relationship:
    kind: RelationshipKind
    source: EntityRef
    target: EntityRef


@dataclass(frozen=True)
class JourneyState:
    key: str
    kind: StateKind = "chat"
    action: str | None = None
    tool: str | None = None
    initial: bool = False
    tools: tuple[str, ...] = ()
    canned_responses: tuple[str, ...] = ()


@dataclass(frozen=True)
class JourneyTransition:
    source: str
    target: str
    condition: str | None = None


@dataclass(frozen=True)
class Journey:
    key: str
    title: str
    description: str = ""
    triggers: tuple[str, ...] = ()  # guideline keys
    conditions: tuple[str, ...] = ()  # free-text trigger conditions
    tags: tuple[str, ...] = ()
    states: tuple[JourneyState, ...] = ()
    transitions: tuple[JourneyTransition, ...] = ()

    @property
    def tag(self) -> str:
        return f"{JOURNEY_TAG_PREFIX}{self.key}"

    @property
    def initial_state(self) -> JourneyState:
        for state in self.states:
            if state.initial:
                return state
        return self.states[0]

    def state(self, key: str) -> JourneyState | None:
        for state in self.states:
            if state.key == key:
                return state
        return None

    def outgoing(self, state_key: str) -> tuple[JourneyTransition, ...]:
        return tuple(t for t in self.transitions if t.source == state_key)


@dataclass(frozen=True)
class GlossaryTerm:
    name: str
    synonyms: tuple[str, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextVariable:
    """A per-customer fact. Value precedence: the customer's own value, then a customer-tag value,
    then the default; a tool-fed variable is refreshed when older than `freshness_seconds`."""

    name: str
    description: str = ""
    tool: str | None = None
    freshness_seconds: int | None = None
    tags: tuple[str, ...] = ()
    default: Any = field(default=None, hash=False, compare=False)
    tag_values: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class CannedField:
    name: str
    kind: FieldKind = "generative"
    description: str = ""


@dataclass(frozen=True)
class CannedResponse:
    key: str
    template: str
    fields: tuple[CannedField, ...] = ()
    signals: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    guidelines: tuple[str, ...] = ()
    journey_states: tuple[str, ...] = ()  # "journey_key/state_key"


@dataclass(frozen=True)
class ToolParameter:
    name: str
    type: ParameterType = "str"
    description: str = ""
    required: bool = True
    enum: tuple[str, ...] = ()
    items: ParameterType | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str = ""
    implementation: str = "python"
    service: str | None = None
    consequential: bool = False
    timeout_seconds: float = 10.0
    parameters: tuple[ToolParameter, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """One behavior version, frozen. Entities are keyed by their document keys/names.
    `fingerprint` identifies the content (caches such as the embedding index are keyed by it)."""

    agent: AgentSettings
    guidelines: tuple[Guideline, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    journeys: tuple[Journey, ...] = ()
    glossary: tuple[GlossaryTerm, ...] = ()
    variables: tuple[ContextVariable, ...] = ()
    canned_responses: tuple[CannedResponse, ...] = ()
    tools: tuple[Tool, ...] = ()
    tags: tuple[str, ...] = ()
    fingerprint: str = ""

    @cached_property
    def content_key(self) -> str:
        """The fingerprint, or a hash of the content when the snapshot was built by hand."""
        if self.fingerprint:
            return self.fingerprint
        return hashlib.sha256(repr(self).encode()).hexdigest()

    @cached_property
    def guideline_by_key(self) -> dict[str, Guideline]:
        return {g.key: g for g in self.guidelines}

    @cached_property
    def journey_by_key(self) -> dict[str, Journey]:
        return {j.key: j for j in self.journeys}

    @cached_property
    def tool_by_name(self) -> dict[str, Tool]:
        return {t.name: t for t in self.tools}

    @cached_property
    def canned_by_key(self) -> dict[str, CannedResponse]:
        return {c.key: c for c in self.canned_responses}


# ---------------------------------------------------------------- interaction


@dataclass(frozen=True)
class CustomerInfo:
    id: str | None = None
    name: str = ""
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    variables: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)  # per-customer values


@dataclass(frozen=True)
class InteractionEvent:
    """One stored session event. Only kind "message" events are conversation; others are context."""

    offset: int
    source: EventSource
    kind: str = "message"
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    created_at: datetime | None = None


@dataclass(frozen=True)
class Interaction:
    session_id: str
    customer: CustomerInfo = field(default_factory=CustomerInfo)
    events: tuple[InteractionEvent, ...] = ()
    # The note a human colleague left when handing the conversation back, for the first turn after it only.
    handback_note: str = ""

    @property
    def messages(self) -> tuple[InteractionEvent, ...]:
        return tuple(e for e in self.events if e.kind == "message")

    @property
    def last_customer_message(self) -> InteractionEvent | None:
        for event in reversed(self.events):
            if event.kind == "message" and event.source == "customer":
                return event
        return None


# ---------------------------------------------------------------- session state


@dataclass(frozen=True)
class AppliedGuideline:
    key: str
    offset: int  # the customer message offset at which it was applied


@dataclass(frozen=True)
class CachedVariable:
    value: Any = field(hash=False, compare=False)
    fetched_at: datetime
    error: str | None = None


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class SessionState:
    """What the engine remembers between turns. JSON round-trippable with to_dict()/from_dict()."""

    mode: SessionMode = "auto"
    applied: tuple[AppliedGuideline, ...] = ()
    journeys: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)  # journey key -> state key
    journey_paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    variables: Mapping[str, CachedVariable] = field(default_factory=dict, hash=False, compare=False)
    summary: str = ""
    summary_until_offset: int = -1
    key_facts: tuple[str, ...] = ()

    def applied_offset(self, key: str) -> int | None:
        for item in self.applied:
            if item.key == key:
                return item.offset
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "applied": [{"key": a.key, "offset": a.offset} for a in self.applied],
            "journeys": dict(self.journeys),
            "journey_paths": {k: list(v) for k, v in self.journey_paths.items()},
            "variables": {
                name: {"value": c.value, "fetched_at": c.fetched_at.isoformat(), "error": c.error}
                for name, c in self.variables.items()
            },
            "summary": self.summary,
            "summary_until_offset": self.summary_until_offset,
            "key_facts": list(self.key_facts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SessionState:
        if not data:
            return cls()
        mode = data.get("mode", "auto")
        return cls(
            mode="human" if mode == "human" else "auto",
            applied=tuple(
                AppliedGuideline(key=str(a["key"]), offset=int(a["offset"])) for a in data.get("applied", [])
            ),
            journeys={str(k): str(v) for k, v in (data.get("journeys") or {}).items()},
            journey_paths={str(k): tuple(str(s) for s in v) for k, v in (data.get("journey_paths") or {}).items()},
            variables={
                str(name): CachedVariable(
                    value=c.get("value"), fetched_at=_parse_datetime(c["fetched_at"]), error=c.get("error")
                )
                for name, c in (data.get("variables") or {}).items()
            },
            summary=str(data.get("summary", "")),
            summary_until_offset=int(data.get("summary_until_offset", -1)),
            key_facts=tuple(str(f) for f in data.get("key_facts", [])),
        )


# ---------------------------------------------------------------- configuration, ports, result


@dataclass(frozen=True)
class EngineConfig:
    """Knobs with defaults that hold the targets of docs/architecture.md §10; see docs in each stage module."""

    all_candidates_threshold: int = 30  # at most this many in-scope guidelines: all are candidates
    top_k: int = 30  # otherwise: top-K by similarity (MiniLM recall at 1,000 guidelines needs >= ~25)
    always_included_cap: int = 12  # ... plus at most this many always-included ones
    matching_batch_size: int = 16
    single_pass_max_candidates: int = 12
    glossary_top_k: int = 5
    glossary_min_score: float = 0.25
    canned_top_k: int = 5
    canned_min_score: float = 0.2
    history_verbatim_messages: int = 12  # the last N messages are kept verbatim
    history_token_budget: int = 1500
    message_max_chars: int = 2000
    summary_max_chars: int = 1200
    tool_max_timeout_seconds: float = 30.0
    tool_result_max_chars: int = 2000
    trace_prompt_max_chars: int = 6000
    applied_analysis: Literal["llm", "assume"] = "llm"
    preamble_in_strict_mode: bool = False
    error_reply: str = "I'm sorry, something went wrong on my side. Please try again in a moment."
    human_handoff_note: str = "A human colleague will take over this conversation shortly."


@dataclass(frozen=True)
class EnginePorts:
    llm: LLM
    embedder: Embedder
    tools: ToolRunner
    emitter: Emitter
    clock: Clock
    cancellation: Cancellation


@dataclass(frozen=True)
class EmittedMessage:
    message_id: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class TurnResult:
    outcome: TurnOutcome
    messages: tuple[EmittedMessage, ...]
    state: SessionState
    trace: Mapping[str, Any] = field(hash=False, compare=False)
    llm_calls: int = 0
    hops: int = 0
