"""Test support for the realtime path (turns, emitter, consumers): a small fake LLM, a scripted stand-in for
`run_turn` that exercises the turn runner's side of the engine contract, and helpers to read a group."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import channel_layers, get_channel_layer

from behavior.engine.ports import LLMCallRecord, LLMError, LLMRequest, SchemaT, StructuredResult, TextSink
from behavior.engine.types import (
    EmittedMessage,
    EngineConfig,
    EnginePorts,
    Interaction,
    SessionState,
    Snapshot,
    TurnResult,
)
from tests.support.json_pieces import stream_json
from tests.support.schema_instances import schema_instance

IN_MEMORY_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def realtime_settings(settings: Any) -> None:
    """Turns run inline (synchronously, after commit), the in-memory channel layer, the hashing embedder."""
    from agents.embeddings import embedder_reset
    from sessions.engine_bridge import snapshot_cache_clear

    settings.TURNS_RUN_INLINE = True
    settings.TURNS_IN_PROCESS = True
    settings.EMBEDDER = "hashing"
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYERS
    channel_layers.backends.clear()
    embedder_reset()
    snapshot_cache_clear()


class FakeTextStream:
    def __init__(self, request: LLMRequest, pieces: list[str], fail: Exception | None) -> None:
        self.record: LLMCallRecord | None = None
        self._request = request
        self._pieces = pieces
        self._fail = fail

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        if self._fail is not None:
            raise self._fail
        for piece in self._pieces:
            await asyncio.sleep(0)
            yield piece
        self.record = LLMCallRecord(
            purpose=self._request.purpose,
            model=self._request.model,
            prompt_tokens=100,
            completion_tokens=len(self._pieces),
            latency_ms=1.0,
        )


@dataclass
class FakeLLM:
    """Structured calls answer a valid instance of the asked schema (booleans true: guidelines apply);
    streamed calls answer `reply` in word pieces. `fail` makes every call raise it."""

    reply: str = "Hello from the fake model."
    fail: Exception | None = None
    calls: list[str] = field(default_factory=list)
    on_call: Callable[[LLMRequest], Awaitable[None]] | None = None

    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        self.calls.append(request.purpose)
        if self.on_call is not None:
            await self.on_call(request)
        if self.fail is not None:
            raise self.fail
        hint = request.messages[-1].content if request.messages else ""
        value = schema.model_validate(schema_instance(schema.model_json_schema(), hint=hint[:200]))
        if on_text is not None:
            await stream_json(value, on_text)
        record = LLMCallRecord(
            purpose=request.purpose, model=request.model, prompt_tokens=100, completion_tokens=20, latency_ms=1.0
        )
        return StructuredResult(value=value, record=record)

    def stream(self, request: LLMRequest) -> FakeTextStream:
        self.calls.append(request.purpose)
        pieces = [word + " " for word in self.reply.split(" ")]
        pieces[-1] = pieces[-1].rstrip()
        return FakeTextStream(request, pieces, self.fail)


class BrokenLLM(FakeLLM):
    def __init__(self, message: str = "connection refused by the model server") -> None:
        super().__init__(fail=LLMError(message))


@dataclass
class ScriptedEngine:
    """Stands in for `behavior.engine.turn.run_turn` to pin the turn runner's side of the contract (what it
    stores and broadcasts for each port call) independently of the engine's internals."""

    reply: str = "Scripted reply."
    outcome: str = "replied"
    raise_error: Exception | None = None
    during: Callable[[], Awaitable[None]] | None = None  # awaited after "typing", before the reply
    checks_cancellation: bool = True  # False: an engine that streams on regardless (the emitter must stop it)
    tool_data: dict[str, Any] | None = None  # emitted as a tool event before the reply
    chunk_pause: float = 0.0  # seconds between streamed words
    calls: int = 0

    async def __call__(
        self,
        *,
        snapshot: Snapshot,
        interaction: Interaction,
        state: SessionState,
        ports: EnginePorts,
        config: EngineConfig | None = None,
    ) -> TurnResult:
        self.calls += 1
        emitter = ports.emitter
        await emitter.status("processing")
        await emitter.status("typing")
        if self.during is not None:
            await self.during()
        if self.raise_error is not None:
            raise self.raise_error
        if self.checks_cancellation and await ports.cancellation.is_cancelled():
            return TurnResult(outcome="superseded", messages=(), state=state, trace={"turn": {"outcome": "superseded"}})
        if self.tool_data is not None:
            await emitter.tool_event(data=self.tool_data)
        message_id = f"m{interaction.last_customer_message.offset if interaction.last_customer_message else 0}"
        for word in self.reply.split(" "):
            if self.chunk_pause:
                await asyncio.sleep(self.chunk_pause)
            await emitter.message_chunk(message_id=message_id, text=word + " ")
        await emitter.message(message_id=message_id, text=self.reply, data={})
        await emitter.trace(trace={"turn": {"outcome": self.outcome}, "seen": [e.offset for e in interaction.events]})
        await emitter.status("ready")
        new_state = SessionState.from_dict({**state.to_dict(), "summary": f"seen {len(interaction.messages)} messages"})
        return TurnResult(
            outcome=self.outcome,  # type: ignore[arg-type]
            messages=(EmittedMessage(message_id=message_id, text=self.reply),),
            state=new_state,
            trace={"turn": {"outcome": self.outcome}},
        )


async def group_listen(session_uid: Any) -> tuple[Any, str]:
    """A fresh channel subscribed to a session's group (the in-memory layer)."""
    from sessions.broadcast import home_loop_register, session_group

    home_loop_register()
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(session_group(session_uid), channel)
    return layer, channel


async def group_drain(layer: Any, channel: str, *, quiet_seconds: float = 0.2) -> list[dict[str, Any]]:
    """Every message waiting on `channel` (stops after `quiet_seconds` without one)."""
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), timeout=quiet_seconds))
        except TimeoutError:
            return messages
