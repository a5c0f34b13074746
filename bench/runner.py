"""Plays scripted conversations through `run_turn` with the bench's fake ports, under the virtual-time
loop, and measures each turn (see bench/README.md for what every number means)."""

from __future__ import annotations

import asyncio
import cProfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from agents.embeddings.hashing import HashingEmbedder
from behavior.engine.index import snapshot_index
from behavior.engine.turn import run_turn
from behavior.engine.types import (
    CustomerInfo,
    EngineConfig,
    EnginePorts,
    Interaction,
    InteractionEvent,
    SessionState,
    Snapshot,
)
from behavior.snapshot import snapshot_from_document
from bench.conversations import Conversation
from bench.fake_llm import BenchLLM, CallLog, LatencyModel, VerdictPolicy
from bench.ports import BenchToolRunner, NeverCancelled, RecordingEmitter, VirtualClock
from bench.virtual_loop import VirtualTimeLoop

T = TypeVar("T")
VARIABLE_TOOL_SOURCE = "variable:"


@dataclass
class TurnMetrics:
    scenario: str
    size: int
    conversation: str
    turn: int
    outcome: str
    strategy: str
    llm_calls: int  # counted by the fake, every call of the turn (also those after the reply)
    calls_after_reply: int
    engine_llm_calls: int  # as the engine reports it
    hops: int  # LLM round trips before the reply, measured from the calls' (virtual) intervals
    engine_hops: int
    tool_calls: int  # tool runs proposed by the LLM (context-variable refreshes not counted)
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float  # simulated: turn start to the reply message
    ttft_ms: float  # simulated: turn start to the reply's first streamed chunk (or the message)
    overhead_ms: float  # real wall time of run_turn minus the fakes' own CPU time
    engine_overhead_ms: float | None  # the trace's own overhead figure
    candidates: int
    targets: int
    targets_reached: int
    calls_by_purpose: dict[str, int] = field(default_factory=dict)
    journeys: dict[str, str] = field(default_factory=dict)
    reply: str = ""

    @property
    def tool_round(self) -> bool:
        return self.tool_calls > 0


@dataclass
class ScenarioResult:
    scenario: str
    size: int
    index_build_ms: float
    turns: list[TurnMetrics]
    unknown_schemas: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "size": self.size,
            "index_build_ms": round(self.index_build_ms, 2),
            "unknown_schemas": self.unknown_schemas,
            "turns": [asdict(t) for t in self.turns],
        }


@dataclass
class ScenarioSpec:
    scenario: str
    size: int
    document: dict[str, Any]
    conversations: Sequence[Conversation]
    policy: VerdictPolicy = "overlap"


def run_virtual(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a fresh virtual-time loop."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(factory())  # type: ignore[arg-type]


def hops_before(calls: Sequence[CallLog], moment: float) -> int:
    """Length of the longest chain of LLM calls that ran one after the other before `moment`:
    a call is one hop after every call that had finished when it started."""
    started = sorted((c for c in calls if c.start < moment), key=lambda c: c.start)
    layers: list[int] = []
    for index, call in enumerate(started):
        previous = [layers[i] for i in range(index) if started[i].end <= call.start + 1e-9]
        layers.append(1 + max(previous, default=0))
    return max(layers, default=0)


async def scenario_run(
    spec: ScenarioSpec,
    *,
    latency: LatencyModel,
    tool_latency_ms: float,
    turns: int,
    config: EngineConfig | None = None,
    profiler: cProfile.Profile | None = None,
) -> ScenarioResult:
    snapshot = snapshot_from_document(spec.document)
    embedder = HashingEmbedder()
    started = time.perf_counter()
    await snapshot_index(snapshot, embedder)  # built once per behavior version, not per turn
    index_build_ms = (time.perf_counter() - started) * 1000
    llm = BenchLLM(snapshot=snapshot, latency=latency, policy=spec.policy)
    tools = BenchToolRunner(latency_ms=tool_latency_ms)
    emitter = RecordingEmitter()
    ports = EnginePorts(
        llm=llm, embedder=embedder, tools=tools, emitter=emitter, clock=VirtualClock(), cancellation=NeverCancelled()
    )
    results: list[TurnMetrics] = []
    for number, conversation in enumerate(spec.conversations):
        results.extend(
            await conversation_run(
                spec,
                snapshot,
                conversation,
                ports=ports,
                session_id=f"bench-{number}",
                turns=turns,
                config=config,
                profiler=profiler,
            )
        )
    return ScenarioResult(spec.scenario, spec.size, index_build_ms, results, sorted(llm.unknown_schemas))


async def conversation_run(
    spec: ScenarioSpec,
    snapshot: Snapshot,
    conversation: Conversation,
    *,
    ports: EnginePorts,
    session_id: str,
    turns: int,
    config: EngineConfig | None,
    profiler: cProfile.Profile | None,
) -> list[TurnMetrics]:
    llm, tools, emitter = ports.llm, ports.tools, ports.emitter
    assert isinstance(llm, BenchLLM) and isinstance(tools, BenchToolRunner) and isinstance(emitter, RecordingEmitter)
    loop = asyncio.get_running_loop()
    customer = CustomerInfo(id="customer-42", name="Alex Morgan")
    events: list[InteractionEvent] = []
    state = SessionState()
    metrics = []
    for turn, text in enumerate(conversation.messages[:turns]):
        events.append(InteractionEvent(offset=len(events), source="customer", text=text, created_at=ports.clock.now()))
        interaction = Interaction(session_id=session_id, customer=customer, events=tuple(events))
        llm.reset()
        tools.reset()
        emitter.reset()
        start_virtual, start_real = loop.time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            result = await run_turn(snapshot=snapshot, interaction=interaction, state=state, ports=ports, config=config)
        finally:
            if profiler is not None:
                profiler.disable()
        wall_ms = (time.perf_counter() - start_real) * 1000
        reply = emitter.reply()
        reply_at = reply.at if reply is not None else loop.time()
        first_chunk = next(
            (
                e.at
                for e in emitter.events
                if e.kind == "chunk" and reply is not None and e.message_id == reply.message_id
            ),
            reply_at,
        )
        trace = dict(result.trace or emitter.trace_data or {})
        tool_calls = [
            c
            for c in trace.get("tools", {}).get("calls", [])
            if not str(c.get("source", "")).startswith(VARIABLE_TOOL_SOURCE)
        ]
        candidates = {c["key"] for c in trace.get("retrieval", {}).get("candidates", [])}
        targets = conversation.targets_of(turn)
        metrics.append(
            TurnMetrics(
                scenario=spec.scenario,
                size=spec.size,
                conversation=conversation.name,
                turn=turn + 1,
                outcome=result.outcome,
                strategy=str(trace.get("turn", {}).get("strategy", "")),
                llm_calls=len(llm.calls),
                calls_after_reply=sum(1 for c in llm.calls if c.start >= reply_at),
                engine_llm_calls=result.llm_calls,
                hops=hops_before(llm.calls, reply_at),
                engine_hops=result.hops,
                tool_calls=sum(1 for c in tool_calls if c.get("status") not in ("invalid", "skipped")),
                prompt_tokens=sum(c.prompt_tokens for c in llm.calls),
                completion_tokens=sum(c.completion_tokens for c in llm.calls),
                latency_ms=(reply_at - start_virtual) * 1000,
                ttft_ms=(first_chunk - start_virtual) * 1000,
                overhead_ms=wall_ms - (llm.cpu_seconds + tools.cpu_seconds) * 1000,
                engine_overhead_ms=trace.get("timings", {}).get("overhead_ms"),
                candidates=len(candidates),
                targets=len(targets),
                targets_reached=sum(1 for t in targets if t in candidates),
                calls_by_purpose=dict(Counter(c.purpose for c in llm.calls)),
                journeys=dict(result.state.journeys),
                reply=reply.text[:300] if reply is not None else "",
            )
        )
        for message in result.messages:
            events.append(
                InteractionEvent(
                    offset=len(events),
                    source="agent",
                    text=message.text,
                    data=dict(message.data),
                    created_at=ports.clock.now(),
                )
            )
        state = result.state
    return metrics
