"""The per-turn working context: inputs, ports, the trace being written, and the instrumented LLM calls
(every call is recorded with its prompt sections, hop and timing; waits are measured to compute overhead)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from behavior.engine.history import HistoryView
from behavior.engine.index import SnapshotIndex
from behavior.engine.ports import LLMCallRecord, LLMError, TextSink
from behavior.engine.prompts.sections import Prompt, estimate_tokens
from behavior.engine.trace import LLMCallTrace, StageTiming, TurnTrace
from behavior.engine.types import (
    AgentSettings,
    EngineConfig,
    EnginePorts,
    GlossaryTerm,
    Interaction,
    SessionState,
    Snapshot,
)

SchemaT = TypeVar("SchemaT", bound=BaseModel)
T = TypeVar("T")
MAX_REPLY_CHARS = 8000


async def gather_or_cancel(*awaitables: Awaitable[T]) -> list[T]:
    """Like asyncio.gather, but the first failure cancels the siblings (no orphaned LLM calls) and is
    re-raised as itself."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return []
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = next((t for t in tasks if t in done and not t.cancelled() and t.exception() is not None), None)
        if failed is not None:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            raise failed.exception()  # type: ignore[misc]
        return [t.result() for t in tasks]
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise


@dataclass
class WaitClock:
    """Union of wall-clock intervals spent waiting on a port, so parallel waits are not double counted."""

    intervals: list[tuple[float, float]] = field(default_factory=list)

    def add(self, start: float, end: float) -> None:
        self.intervals.append((start, end))

    def total_ms(self) -> float:
        total, current_start, current_end = 0.0, None, None
        for start, end in sorted(self.intervals):
            if current_end is None or start > current_end:
                if current_end is not None and current_start is not None:
                    total += current_end - current_start
                current_start, current_end = start, end
            else:
                current_end = max(current_end, end)
        if current_end is not None and current_start is not None:
            total += current_end - current_start
        return total * 1000


@dataclass
class TurnRuntime:
    snapshot: Snapshot
    interaction: Interaction
    state: SessionState
    ports: EnginePorts
    config: EngineConfig
    trace: TurnTrace
    started: float = field(default_factory=time.perf_counter)
    index: SnapshotIndex | None = None
    history: HistoryView | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    censored: dict[int, str] = field(default_factory=dict)
    moderation_note: str | None = None
    terms: list[GlossaryTerm] = field(default_factory=list)
    hop: int = 0
    llm_waits: WaitClock = field(default_factory=WaitClock)
    tool_waits: WaitClock = field(default_factory=WaitClock)
    embed_waits: WaitClock = field(default_factory=WaitClock)

    @property
    def agent(self) -> AgentSettings:
        return self.snapshot.agent

    @property
    def customer_offset(self) -> int:
        last = self.interaction.last_customer_message
        return last.offset if last is not None else -1

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def next_hop(self) -> int:
        self.hop += 1
        return self.hop

    @asynccontextmanager
    async def stage(self, name: str) -> AsyncIterator[None]:
        start = self.elapsed_ms()
        try:
            yield
        finally:
            self.trace.stages.append(
                StageTiming(name=name, started_ms=round(start, 2), duration_ms=round(self.elapsed_ms() - start, 2))
            )

    async def generate(
        self,
        prompt: Prompt,
        schema: type[SchemaT],
        *,
        hop: int | None,
        critical: bool = True,
        max_tokens: int | None = None,
        on_text: TextSink | None = None,
    ) -> SchemaT:
        """One structured call, recorded in the trace (also when it fails, then re-raised). With `on_text`,
        the raw JSON is streamed to it as it is generated (see the LLM port)."""
        request = prompt.request(model=self.agent.model, temperature=self.agent.temperature, max_tokens=max_tokens)
        started_ms = self.elapsed_ms()
        start = time.perf_counter()
        try:
            if on_text is None:
                result = await self.ports.llm.generate(request, schema)
            else:
                result = await self.ports.llm.generate(request, schema, on_text=on_text)
        except LLMError as exc:
            end = time.perf_counter()
            self.llm_waits.add(start, end)
            record = LLMCallRecord(
                purpose=prompt.purpose,
                model=self.agent.model,
                prompt_tokens=0,
                completion_tokens=0,
                latency_ms=(end - start) * 1000,
                error=f"{type(exc).__name__}: {exc}"[:500],
            )
            self._record(prompt, record, started_ms, hop, critical, schema.__name__)
            raise
        self.llm_waits.add(start, time.perf_counter())
        self._record(prompt, result.record, started_ms, hop, critical, schema.__name__)
        return result.value

    async def stream(self, prompt: Prompt, *, hop: int, on_chunk: Any) -> str:
        """Streamed free text; `on_chunk(text)` is awaited for each chunk. Returns the full text."""
        request = prompt.request(model=self.agent.model, temperature=self.agent.temperature)
        started_ms = self.elapsed_ms()
        start = time.perf_counter()
        parts: list[str] = []
        size = 0
        error: str | None = None
        stream: Any = None
        try:
            stream = self.ports.llm.stream(request)
            async for chunk in stream:
                if not chunk:
                    continue
                if size + len(chunk) > MAX_REPLY_CHARS:
                    chunk = chunk[: MAX_REPLY_CHARS - size]
                parts.append(chunk)
                size += len(chunk)
                await on_chunk(chunk)
                if size >= MAX_REPLY_CHARS:
                    break
        except LLMError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            end = time.perf_counter()
            self.llm_waits.add(start, end)
            text = "".join(parts)
            record = getattr(stream, "record", None) or LLMCallRecord(
                purpose=prompt.purpose,
                model=self.agent.model,
                prompt_tokens=prompt.estimated_tokens,
                completion_tokens=estimate_tokens(text),
                latency_ms=(end - start) * 1000,
            )
            if error is not None:
                record = LLMCallRecord(**{**record.__dict__, "error": error})
            self._record(prompt, record, started_ms, hop, True, None)
        return "".join(parts)

    def _record(
        self,
        prompt: Prompt,
        record: LLMCallRecord,
        started_ms: float,
        hop: int | None,
        critical: bool,
        schema: str | None,
    ) -> None:
        rendered = prompt.render()
        cap = self.config.trace_prompt_max_chars
        self.trace.llm_calls.append(
            LLMCallTrace(
                purpose=record.purpose or prompt.purpose,
                model=record.model,
                prompt_tokens=record.prompt_tokens,
                completion_tokens=record.completion_tokens,
                latency_ms=round(record.latency_ms, 2),
                retries=record.retries,
                error=record.error,
                started_at_ms=round(started_ms, 2),
                hop=hop,
                critical=critical,
                schema=schema,
                estimated_prompt_tokens=prompt.estimated_tokens,
                sections=prompt.section_tokens(),
                truncated=list(prompt.truncated),
                prompt=rendered if len(rendered) <= cap else rendered[:cap] + "…",
            )
        )

    @property
    def llm_call_count(self) -> int:
        return len(self.trace.llm_calls)
