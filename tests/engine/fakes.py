"""Scripted fakes of the engine's ports, reusable by every test suite (and the benchmark).

- ScriptedLLM: answers structured calls by `request.purpose` and schema, from scripted values,
  callables or exceptions, with sensible defaults driven by `applies` (which guideline ids hold);
  records every call; streams composition text in chunks; simulates the adapter's re-asking on
  invalid replies (`max_attempts`) before raising LLMValidationError.
- FakeEmbedder: deterministic hashed bag of (lightly stemmed) words: texts that share words are close.
- FakeToolRunner, RecordingEmitter, FakeClock, NeverCancelled, CancelAfter.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from behavior.engine.ports import (
    LLMCallRecord,
    LLMError,
    LLMRequest,
    LLMValidationError,
    StructuredResult,
    TextSink,
    ToolCallRequest,
    ToolOutcome,
)
from behavior.engine.prompts.sections import (
    CANNED_MARKER,
    CURRENT_STATE_MARKER,
    IDS_MARKER,
    JOURNEY_MARKER,
    estimate_tokens,
    marker_values,
)
from behavior.engine.schemas import (
    AppliedAnalysis,
    AppliedItem,
    CannedSelection,
    FieldValue,
    GuidelineVerdict,
    JourneyStepSelection,
    MatchingBatch,
    ModerationVerdict,
    Preamble,
    SinglePassCanned,
    SinglePassReply,
    ToolArgument,
    ToolCallProposal,
)
from behavior.engine.types import EnginePorts
from tests.support.json_pieces import stream_json

Responder = (
    Any  # a schema instance, a dict, a str (streams), an Exception, or a callable(request, schema) -> one of those
)


def tool_call(tool: str, **arguments: Any) -> ToolCallProposal:
    return ToolCallProposal(
        tool=tool,
        arguments=[
            ToolArgument(name=k, value=v if isinstance(v, str) else json.dumps(v)) for k, v in arguments.items()
        ],
    )


def journey_step(
    move: str, target: str = "", *calls: ToolCallProposal, rationale: str = "scripted"
) -> JourneyStepSelection:
    return JourneyStepSelection(
        facts="scripted facts", rationale=rationale, move=move, target_state=target, tool_calls=list(calls)
    )


def request_text(request: LLMRequest) -> str:
    return "\n".join(m.content for m in request.messages)


@dataclass
class LLMCall:
    request: LLMRequest
    schema: type[BaseModel] | None
    streamed: bool = False  # a structured call whose JSON was streamed (on_text)

    @property
    def purpose(self) -> str:
        return self.request.purpose

    @property
    def text(self) -> str:
        return request_text(self.request)

    @property
    def ids(self) -> list[str]:
        return marker_values(self.request, IDS_MARKER)


class _Stream:
    def __init__(self, llm: ScriptedLLM, request: LLMRequest, text: str | Exception) -> None:
        self.llm, self.request, self.text = llm, request, text
        self.record: LLMCallRecord | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        started = time.perf_counter()
        await self.llm._wait(self.request)
        if isinstance(self.text, Exception):
            raise self.text
        size = self.llm.chunk_size
        for start in range(0, len(self.text), size):
            if self.llm.chunk_delay:
                await asyncio.sleep(self.llm.chunk_delay)
            yield self.text[start : start + size]
        self.record = self.llm._record(self.request, self.text, started)


class ScriptedLLM:
    """A scripted LLM port. `script(purpose, *responders)` queues one-shot answers; `on(purpose, responder)`
    sets a standing one; otherwise the defaults below answer from `applies`, `tool_calls`, `journeys`."""

    def __init__(
        self,
        *,
        applies: Iterable[str] | Callable[[str, LLMRequest], bool] = (),
        tool_calls: Mapping[str, Sequence[ToolCallProposal]] | None = None,
        journeys: Mapping[str, JourneyStepSelection | Callable[[str, LLMRequest], JourneyStepSelection]] | None = None,
        reply: str = "Here is what I can tell you.",
        canned_choice: str | None = None,
        canned_fields: Mapping[str, str] | None = None,
        not_applied: Iterable[str] = (),
        flagged: Callable[[str], bool] | None = None,
        latency: float | Callable[[LLMRequest], float] = 0.0,
        chunk_size: int = 8,
        chunk_delay: float = 0.0,
        max_attempts: int = 3,
        model: str = "scripted",
    ) -> None:
        self.applies = applies if callable(applies) else set(applies)
        self.tool_calls = dict(tool_calls or {})
        self.journeys = dict(journeys or {})
        self.reply = reply
        self.canned_choice = canned_choice
        self.canned_fields = dict(canned_fields or {})
        self.not_applied = set(not_applied)
        self.flagged = flagged or (lambda text: False)
        self.latency = latency
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.max_attempts = max_attempts
        self.model = model
        self.calls: list[LLMCall] = []
        self.attempts: dict[str, int] = {}
        self._queued: dict[str, list[Responder]] = {}
        self._standing: dict[str, Responder] = {}

    # ---------------------------------------------------------------- scripting

    def script(self, purpose: str, *responders: Responder) -> ScriptedLLM:
        self._queued.setdefault(purpose, []).extend(responders)
        return self

    def on(self, purpose: str, responder: Responder) -> ScriptedLLM:
        self._standing[purpose] = responder
        return self

    def calls_for(self, purpose: str) -> list[LLMCall]:
        return [c for c in self.calls if c.purpose == purpose]

    def does_apply(self, key: str, request: LLMRequest) -> bool:
        if callable(self.applies):
            return bool(self.applies(key, request))
        return key in self.applies

    # ---------------------------------------------------------------- the port

    async def generate(
        self, request: LLMRequest, schema: type[Any], *, on_text: TextSink | None = None
    ) -> StructuredResult[Any]:
        """Like a real adapter, with `on_text` the first answer's JSON is streamed in small pieces."""
        self.calls.append(LLMCall(request=request, schema=schema, streamed=on_text is not None))
        started = time.perf_counter()
        await self._wait(request)
        retries = 0
        last_error = ""
        for attempt in range(self.max_attempts):
            answer = self._answer(request, schema)
            if isinstance(answer, BaseException):
                raise answer
            if on_text is not None and attempt == 0:
                await stream_json(answer, on_text, piece_chars=self.chunk_size, before_piece=self._chunk_pause)
            try:
                value = answer if isinstance(answer, schema) else schema.model_validate(answer)
            except ValidationError as exc:
                retries = attempt + 1
                last_error = str(exc).splitlines()[0]
                continue
            record = self._record(request, value.model_dump_json(), started, retries=retries)
            return StructuredResult(value=value, record=record)
        self.attempts[request.purpose] = self.attempts.get(request.purpose, 0) + self.max_attempts
        raise LLMValidationError(f"invalid reply after {self.max_attempts} attempts: {last_error}")

    def stream(self, request: LLMRequest) -> _Stream:
        self.calls.append(LLMCall(request=request, schema=None))
        answer = self._answer(request, None)
        if isinstance(answer, BaseException):
            return _Stream(self, request, answer if isinstance(answer, Exception) else LLMError(str(answer)))
        return _Stream(self, request, str(answer))

    async def _chunk_pause(self, piece: str) -> None:
        if self.chunk_delay:
            await asyncio.sleep(self.chunk_delay)

    async def _wait(self, request: LLMRequest) -> None:
        delay = self.latency(request) if callable(self.latency) else self.latency
        if delay:
            await asyncio.sleep(delay)

    def _record(self, request: LLMRequest, output: str, started: float, *, retries: int = 0) -> LLMCallRecord:
        return LLMCallRecord(
            purpose=request.purpose,
            model=request.model,
            prompt_tokens=sum(estimate_tokens(m.content) for m in request.messages),
            completion_tokens=estimate_tokens(output),
            latency_ms=(time.perf_counter() - started) * 1000,
            retries=retries,
        )

    def _answer(self, request: LLMRequest, schema: type[Any] | None) -> Any:
        purpose = request.purpose
        queue = self._queued.get(purpose)
        if queue:
            responder = queue.pop(0)
        elif purpose in self._standing:
            responder = self._standing[purpose]
        else:
            responder = self._default
        return responder(request, schema) if callable(responder) and not isinstance(responder, type) else responder

    # ---------------------------------------------------------------- defaults

    def _verdicts(self, request: LLMRequest) -> list[GuidelineVerdict]:
        verdicts = []
        for key in marker_values(request, IDS_MARKER):
            applies = self.does_apply(key, request)
            verdicts.append(
                GuidelineVerdict(
                    id=key,
                    facts=f"scripted facts for {key}",
                    rationale="scripted: applies" if applies else "scripted: does not apply",
                    applies=applies,
                    tool_calls=list(self.tool_calls.get(key, [])) if applies else [],
                )
            )
        return verdicts

    def _default(self, request: LLMRequest, schema: type[Any] | None) -> Any:
        purpose = request.purpose
        if purpose in ("matching", "reevaluation"):
            return MatchingBatch(verdicts=self._verdicts(request))
        if purpose == "journey":
            journey = (marker_values(request, JOURNEY_MARKER) or [""])[0]
            current = (marker_values(request, CURRENT_STATE_MARKER) or [""])[0]
            scripted = self.journeys.get(journey)
            if callable(scripted):
                return scripted(current, request)
            return scripted or journey_step("stay", current)
        if purpose == "composition":
            return self.reply
        canned = marker_values(request, CANNED_MARKER)
        choice = self.canned_choice if self.canned_choice is not None else (canned[0] if canned else "none")
        fields = [FieldValue(name=k, value=v) for k, v in self.canned_fields.items()]
        if purpose == "canned_selection":
            ids = marker_values(request, IDS_MARKER)
            return CannedSelection(draft=self.reply, rationale="scripted", choice=choice, fields=fields, followed=ids)
        if purpose == "single_pass":
            verdicts = self._verdicts(request)
            followed = [v.id for v in verdicts if v.applies]
            if schema is SinglePassCanned:
                return SinglePassCanned(
                    verdicts=verdicts, draft=self.reply, choice=choice, fields=fields, followed=followed
                )
            return SinglePassReply(verdicts=verdicts, reply=self.reply, followed=followed)
        if purpose == "analysis":
            ids = marker_values(request, IDS_MARKER)
            return AppliedAnalysis(
                items=[AppliedItem(id=k, rationale="scripted", applied=k not in self.not_applied) for k in ids]
            )
        if purpose == "moderation":
            text = request_text(request)
            flagged = self.flagged(text)
            return ModerationVerdict(
                rationale="scripted", flagged=flagged, categories=["harassment"] if flagged else []
            )
        if purpose == "preamble":
            return Preamble(message="One moment while I look into that.")
        raise AssertionError(f"ScriptedLLM has no default for purpose {purpose!r}")


# ---------------------------------------------------------------- embeddings

_STOP = set(
    "a an the and or but if then of to in on for with at by from is are was were be been being i my me you your we our "
    "it its this that these those do does did can could would should will have has had please want wants "
    "customer asks ask about".split()
)


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


class FakeEmbedder:
    """Hashed bag of stemmed content words, L2-normalised: word overlap drives similarity."""

    def __init__(self, dimensions: int = 512, model_id: str = "fake-hash-v1") -> None:
        self.dimensions = dimensions
        self.model_id = model_id
        self.calls: list[list[str]] = []

    def vector(self, text: str) -> list[float]:
        values = [0.0] * self.dimensions
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if word in _STOP:
                continue
            digest = hashlib.blake2b(_stem(word).encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimensions
            values[bucket] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [v / norm for v in values]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self.vector(t) for t in texts]


# ---------------------------------------------------------------- tools


class FakeToolRunner:
    """`handlers[name]`: a ToolOutcome, plain data, an Exception, or a (sync/async) callable(arguments)."""

    def __init__(self, handlers: Mapping[str, Any] | None = None, *, delays: Mapping[str, float] | None = None) -> None:
        self.handlers = dict(handlers or {})
        self.delays = dict(delays or {})
        self.calls: list[ToolCallRequest] = []

    def called(self, name: str) -> list[ToolCallRequest]:
        return [c for c in self.calls if c.tool_name == name]

    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        self.calls.append(call)
        if call.tool_name in self.delays:
            await asyncio.sleep(self.delays[call.tool_name])
        handler = self.handlers.get(call.tool_name)
        if handler is None:
            raise LookupError(f"no fake handler for tool {call.tool_name}")
        if isinstance(handler, BaseException):
            raise handler
        if callable(handler):
            handler = handler(dict(call.arguments))
            if asyncio.iscoroutine(handler):
                handler = await handler
        return handler if isinstance(handler, ToolOutcome) else ToolOutcome(data=handler)


# ---------------------------------------------------------------- emitter, clock, cancellation


@dataclass
class RecordingEmitter:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def status(self, status: str, *, detail: Mapping[str, Any] | None = None) -> None:
        self.events.append(("status", {"status": status, "detail": dict(detail or {})}))

    async def message_chunk(self, *, message_id: str, text: str) -> None:
        self.events.append(("chunk", {"message_id": message_id, "text": text}))

    async def message(self, *, message_id: str, text: str, data: Mapping[str, Any]) -> None:
        self.events.append(("message", {"message_id": message_id, "text": text, "data": dict(data)}))

    async def tool_event(self, *, data: Mapping[str, Any]) -> None:
        self.events.append(("tool", dict(data)))

    async def trace(self, *, trace: Mapping[str, Any]) -> None:
        self.events.append(("trace", dict(trace)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [payload for k, payload in self.events if k == kind]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.of("message")

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Final messages other than preambles."""
        return [m for m in self.messages if not m["data"].get("preamble")]

    @property
    def statuses(self) -> list[str]:
        return [p["status"] for p in self.of("status")]

    @property
    def chunks(self) -> list[str]:
        return [p["text"] for p in self.of("chunk")]


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return time.perf_counter()

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class NeverCancelled:
    async def is_cancelled(self) -> bool:
        return False


class CancelAfter:
    """Reports cancellation from the `checks`-th check on (0: always cancelled)."""

    def __init__(self, checks: int = 0) -> None:
        self.checks = checks
        self.seen = 0

    async def is_cancelled(self) -> bool:
        self.seen += 1
        return self.seen > self.checks


def make_ports(
    *,
    llm: Any = None,
    embedder: Any = None,
    tools: Any = None,
    emitter: Any = None,
    clock: Any = None,
    cancellation: Any = None,
) -> EnginePorts:
    return EnginePorts(
        llm=llm or ScriptedLLM(),
        embedder=embedder or FakeEmbedder(),
        tools=tools or FakeToolRunner(),
        emitter=emitter or RecordingEmitter(),
        clock=clock or FakeClock(),
        cancellation=cancellation or NeverCancelled(),
    )
