"""Ports: the only ways the engine talks to the world. Adapters live outside the engine
(agents/llm for OpenAI-compatible servers, agents/embeddings for the local model, sessions for the
emitter); tests use scripted fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

SchemaT = TypeVar("SchemaT", bound=BaseModel)


# ---------------------------------------------------------------- LLM


@dataclass(frozen=True)
class LLMMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class LLMRequest:
    """One call. `purpose` names the stage ("matching", "journey", "composition", "single_pass", ...)
    and is recorded in the trace; `model` is the agent's chosen model."""

    purpose: str
    model: str
    messages: tuple[LLMMessage, ...]
    temperature: float = 0.0
    max_tokens: int | None = None


@dataclass(frozen=True)
class LLMCallRecord:
    """What the trace keeps of every LLM call."""

    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    retries: int = 0
    error: str | None = None
    started_at_ms: float = 0.0  # relative to the turn start, filled in by the engine


@dataclass(frozen=True)
class StructuredResult(Generic[SchemaT]):
    value: SchemaT
    record: LLMCallRecord


class LLMError(Exception):
    """The call failed after the adapter's retries (network, 429/5xx, timeout)."""


class LLMTimeoutError(LLMError):
    pass


class LLMValidationError(LLMError):
    """The model's reply did not validate against the schema, even after being re-asked with the error."""


class TextStream(Protocol):
    """An async iterator of text chunks. After iteration ends, `record` holds the call's record."""

    record: LLMCallRecord | None

    def __aiter__(self) -> AsyncIterator[str]: ...


# Receives streamed text, one piece per call.
TextSink = Callable[[str], Awaitable[None]]


class LLM(Protocol):
    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        """Structured generation: returns a validated instance of `schema`.

        With `on_text`, the adapter streams the first attempt and awaits `on_text` with each piece of the
        raw JSON as it arrives (the single-pass reply reaches the customer while it is written); re-asks
        are not streamed. An adapter that cannot stream may ignore it.

        Raises LLMValidationError when the reply fails validation `max_attempts` times (the adapter
        re-asks with the validation error in between), LLMError on transport failure after retries.
        """
        ...

    def stream(self, request: LLMRequest) -> TextStream:
        """Streamed free text (composition)."""
        ...


# ---------------------------------------------------------------- embeddings


class Embedder(Protocol):
    model_id: str
    dimensions: int

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-normalised vectors, one per text, in order."""
        ...


# ---------------------------------------------------------------- tools


@dataclass(frozen=True)
class ToolCallRequest:
    tool_name: str
    arguments: Mapping[str, Any]
    session_id: str
    customer_id: str | None
    timeout_seconds: float


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool returned. `control` lets a tool act on the session:
    {"mode": "human"} hands the session to a human operator; `guidelines` adds transient guidelines
    ([{"condition": ..., "action": ...}]); `canned_fields` supplies canned-response fields."""

    data: Any
    control: Mapping[str, Any] = field(default_factory=dict)
    guidelines: tuple[Mapping[str, str], ...] = ()
    canned_fields: Mapping[str, Any] = field(default_factory=dict)


class ToolRunner(Protocol):
    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        """Run one tool call. Raises on failure; the engine contains and traces the exception.
        Timeouts are enforced by the engine with `call.timeout_seconds`."""
        ...


# ---------------------------------------------------------------- emitter, clock, cancellation


class Emitter(Protocol):
    """Where the engine sends everything the customer or the tester sees while the turn runs."""

    async def status(self, status: str, *, detail: Mapping[str, Any] | None = None) -> None:
        """status is one of: "acknowledged", "processing", "typing", "ready", "error"."""
        ...

    async def message_chunk(self, *, message_id: str, text: str) -> None: ...

    async def message(self, *, message_id: str, text: str, data: Mapping[str, Any]) -> None:
        """The final agent message (the full text, after all chunks). `data` carries e.g. the canned
        response used, or {"preamble": True} for a preamble."""
        ...

    async def tool_event(self, *, data: Mapping[str, Any]) -> None: ...

    async def trace(self, *, trace: Mapping[str, Any]) -> None:
        """The turn's trace as a JSON-serialisable dict, once, at the end of the turn."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class Cancellation(Protocol):
    async def is_cancelled(self) -> bool:
        """True when a newer customer message superseded this turn: the engine stops before
        emitting its reply."""
        ...
