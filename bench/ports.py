"""The bench's other ports: a tool runner with simulated latency, an emitter that timestamps what the
customer would see, a clock on the loop's (virtual) time, and a cancellation that never fires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from behavior.engine.ports import ToolCallRequest, ToolOutcome


@dataclass
class ToolLog:
    tool: str
    arguments: dict[str, Any]
    start: float
    end: float = 0.0


@dataclass
class BenchToolRunner:
    """Every tool answers after `latency_ms` (virtual) with plausible data for its name."""

    latency_ms: float = 150.0
    calls: list[ToolLog] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def reset(self) -> None:
        self.calls.clear()
        self.cpu_seconds = 0.0

    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        loop = asyncio.get_running_loop()
        start_cpu = time.perf_counter()
        log = ToolLog(call.tool_name, dict(call.arguments), start=loop.time())
        self.calls.append(log)
        data = tool_data(call.tool_name, call.arguments)
        self.cpu_seconds += time.perf_counter() - start_cpu
        await asyncio.sleep(self.latency_ms / 1000)
        log.end = loop.time()
        return ToolOutcome(data=data)


def tool_data(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    if name == "get_loyalty_profile":
        return {"loyalty_tier": "gold", "points": 48210}
    if name == "lookup_booking":
        return {
            "booking_reference": arguments.get("booking_reference"),
            "status": "confirmed",
            "flight": "SK214 London Heathrow 10:40 to Paris CDG 12:55",
            "passengers": 1,
            "bag_tags": ["BG4821"],
        }
    if name == "file_baggage_claim":
        return {"claim_reference": "PIR-LHR-20931", "status": "filed"}
    if name == "search_flights":
        return {"options": [{"flight": "SK216", "departs": "10:40"}, {"flight": "SK220", "departs": "16:15"}]}
    return {"status": "ok", "tool": name, "reference": f"{name.upper()[:6]}-1042", "received": dict(arguments)}


@dataclass
class Emitted:
    at: float  # loop time
    kind: str  # status | chunk | message | tool | trace
    message_id: str = ""
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RecordingEmitter:
    events: list[Emitted] = field(default_factory=list)
    trace_data: Mapping[str, Any] | None = None

    def reset(self) -> None:
        self.events.clear()
        self.trace_data = None

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def status(self, status: str, *, detail: Mapping[str, Any] | None = None) -> None:
        self.events.append(Emitted(self._now(), "status", text=status, data=dict(detail or {})))

    async def message_chunk(self, *, message_id: str, text: str) -> None:
        self.events.append(Emitted(self._now(), "chunk", message_id=message_id, text=text))

    async def message(self, *, message_id: str, text: str, data: Mapping[str, Any]) -> None:
        self.events.append(Emitted(self._now(), "message", message_id=message_id, text=text, data=dict(data)))

    async def tool_event(self, *, data: Mapping[str, Any]) -> None:
        self.events.append(Emitted(self._now(), "tool", data=dict(data)))

    async def trace(self, *, trace: Mapping[str, Any]) -> None:
        self.trace_data = trace
        self.events.append(Emitted(self._now(), "trace"))

    def reply(self) -> Emitted | None:
        """The turn's reply: the last message that is not a preamble."""
        for event in reversed(self.events):
            if event.kind == "message" and not event.data.get("preamble"):
                return event
        return None


class VirtualClock:
    """Wall-clock time that advances with the loop's virtual time."""

    def __init__(self, origin: datetime | None = None) -> None:
        self.origin = origin or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self._loop_origin: float | None = None

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> datetime:
        loop_time = asyncio.get_running_loop().time()
        if self._loop_origin is None:
            self._loop_origin = loop_time
        return self.origin + timedelta(seconds=loop_time - self._loop_origin)


class NeverCancelled:
    async def is_cancelled(self) -> bool:
        return False
