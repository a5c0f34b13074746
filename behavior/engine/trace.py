"""The turn trace: a typed, JSON-serialisable record of every stage, the product's explanation of a turn.

`TurnTrace.to_dict()` top-level keys (the sandbox's explainability panel renders them):

- ``version``: trace format version (1).
- ``turn``: session_id, customer_offset, outcome, strategy ("single_pass" | "two_pass"), strategy_reason,
  hops (LLM round trips on the critical path), iterations (preparation hops), llm_calls, started_at.
- ``timings``: wall_ms, llm_wait_ms, tool_wait_ms, embed_wait_ms, overhead_ms (wall minus waits) and
  ``stages``: [{name, started_ms, duration_ms}].
- ``context``: mode, scope (active journeys at turn start), variables [{name, value, source, refreshed,
  error}], history {verbatim, summarised, summary, key_facts, tokens}, moderation {checked, flagged,
  categories, rationale, error}.
- ``retrieval``: strategy ("all" | "top_k"), in_scope, limits, candidates [{key, score, reasons}], always_included
  {reason: count}, dropped_by_cap, canned [{key, score}].
- ``glossary``: terms used in the prompts [{name, score, reason}].
- ``matching``: batches, verdicts [{key, applies, facts, rationale, score, batch, iteration,
  previously_applied, continuous, observation}].
- ``resolution``: decisions [{guideline, action: "dropped" | "added", reason, kind, by}], active [keys],
  clarification (the ambiguous observation and its options, or null).
- ``journeys``: before / after positions {journey: state}, moves [{journey, move, from_state, to_state,
  valid, reason}].
- ``tools``: calls [{tool, source, arguments, valid, status, result, duration_ms, error, missing, invalid}],
  insights (what the reply must tell or ask the customer).
- ``handoff``: the tool result that handed the session to a human {tool, source (the guidelines or journey it
  was called for), reason}, or null.
- ``composition``: mode, method ("stream" | "canned" | "single_pass" | "no_match" | "fallback"),
  message_id, chars, canned_candidates, canned_chosen, draft, fields, preamble, streamed (a single-pass reply
  streamed while the model wrote it).
- ``analysis``: method ("llm" | "followed" | "assume" | "skipped"), applied, not_applied, error.
- ``llm_calls``: every call [{purpose, model, prompt_tokens, completion_tokens, latency_ms, retries,
  error, started_at_ms, hop, critical, schema, estimated_prompt_tokens, sections {name: tokens},
  truncated (sections cut to their budget), prompt (capped)}].
- ``tokens``: prompt, completion, estimated_prompt, by_purpose {purpose: {calls, prompt, completion}}.
- ``errors``: [{stage, error}] contained failures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

TRACE_VERSION = 1
_MAX_VALUE_CHARS = 2000


def json_safe(value: Any, *, max_chars: int = _MAX_VALUE_CHARS) -> Any:
    """A JSON-serialisable copy of `value`; long strings and exotic objects are shortened to text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= max_chars else value[:max_chars] + "…"
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_chars=max_chars) for k, v in list(value.items())[:200]}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, max_chars=max_chars) for v in list(value)[:200]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), max_chars=max_chars)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return json_safe(value.model_dump(mode="json"), max_chars=max_chars)
    return json_safe(repr(value), max_chars=max_chars)


@dataclass
class StageTiming:
    name: str
    started_ms: float
    duration_ms: float


@dataclass
class LLMCallTrace:
    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    retries: int
    error: str | None
    started_at_ms: float
    hop: int | None
    critical: bool
    schema: str | None
    estimated_prompt_tokens: int
    sections: dict[str, int]
    truncated: list[str]
    prompt: str


@dataclass
class CandidateTrace:
    key: str
    score: float | None
    reasons: list[str]


@dataclass
class VerdictTrace:
    key: str
    applies: bool
    facts: str
    rationale: str
    score: float | None
    batch: int
    iteration: int
    previously_applied: bool
    continuous: bool
    observation: bool


@dataclass
class RelationshipDecision:
    guideline: str
    action: str  # "dropped" | "added"
    reason: str
    kind: str
    by: str | None = None


@dataclass
class JourneyMove:
    journey: str
    move: str  # enter | advance | stay | skip | backtrack | exit | complete | auto
    from_state: str | None
    to_state: str | None
    valid: bool
    reason: str


@dataclass
class ToolCallTrace:
    tool: str
    source: str
    arguments: dict[str, Any]
    valid: bool
    status: str  # ok | error | timeout | invalid | skipped
    result: Any = None
    duration_ms: float = 0.0
    error: str | None = None
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


@dataclass
class TurnTrace:
    session_id: str
    customer_offset: int | None
    started_at: str
    outcome: str = "failed"
    strategy: str = ""
    strategy_reason: str = ""
    hops: int = 0
    iterations: int = 0
    stages: list[StageTiming] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    retrieval: dict[str, Any] = field(default_factory=dict)
    glossary: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[VerdictTrace] = field(default_factory=list)
    batches: int = 0
    decisions: list[RelationshipDecision] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    clarification: dict[str, Any] | None = None
    journeys_before: dict[str, str] = field(default_factory=dict)
    journeys_after: dict[str, str] = field(default_factory=dict)
    moves: list[JourneyMove] = field(default_factory=list)
    tool_calls: list[ToolCallTrace] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    # The tool result that handed the session to a human: {"tool", "source", "reason"} (None when none did).
    handoff: dict[str, Any] | None = None
    composition: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    llm_calls: list[LLMCallTrace] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, stage: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.errors.append({"stage": stage, "error": text[:1000]})

    def tokens(self) -> dict[str, Any]:
        by_purpose: dict[str, dict[str, int]] = {}
        for call in self.llm_calls:
            entry = by_purpose.setdefault(call.purpose, {"calls": 0, "prompt": 0, "completion": 0})
            entry["calls"] += 1
            entry["prompt"] += call.prompt_tokens
            entry["completion"] += call.completion_tokens
        return {
            "prompt": sum(c.prompt_tokens for c in self.llm_calls),
            "completion": sum(c.completion_tokens for c in self.llm_calls),
            "estimated_prompt": sum(c.estimated_prompt_tokens for c in self.llm_calls),
            "by_purpose": by_purpose,
        }

    def to_dict(self) -> dict[str, Any]:
        def rows(items: list[Any], max_chars: int = _MAX_VALUE_CHARS) -> list[dict[str, Any]]:
            # Field by field rather than dataclasses.asdict: no deep copies on the turn's critical path.
            return [
                {f.name: json_safe(getattr(item, f.name), max_chars=max_chars) for f in dataclasses.fields(item)}
                for item in items
            ]

        data = {
            "version": TRACE_VERSION,
            "turn": {
                "session_id": self.session_id,
                "customer_offset": self.customer_offset,
                "outcome": self.outcome,
                "strategy": self.strategy,
                "strategy_reason": self.strategy_reason,
                "hops": self.hops,
                "iterations": self.iterations,
                "llm_calls": len(self.llm_calls),
                "started_at": self.started_at,
            },
            "timings": {**self.timings, "stages": rows(self.stages)},
            "context": json_safe(self.context),
            "retrieval": json_safe(self.retrieval),
            "glossary": json_safe(self.glossary),
            "matching": {"batches": self.batches, "verdicts": rows(self.verdicts)},
            "resolution": {
                "decisions": rows(self.decisions),
                "active": list(self.active),
                "clarification": json_safe(self.clarification),
            },
            "journeys": {
                "before": dict(self.journeys_before),
                "after": dict(self.journeys_after),
                "moves": rows(self.moves),
            },
            "tools": {"calls": rows(self.tool_calls), "insights": list(self.insights)},
            "handoff": json_safe(self.handoff),
            "composition": json_safe(self.composition),
            "analysis": json_safe(self.analysis),
            "llm_calls": rows(self.llm_calls, max_chars=1_000_000),  # prompts are already capped by the engine
            "tokens": self.tokens(),
            "errors": list(self.errors),
        }
        return data
