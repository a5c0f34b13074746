"""What each attempt of the evaluation bench (bench/eval_bench.py) took: its wall time, the model calls it made
(booked to the attempt its thread runs) and how many attempts ran at once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AttemptTiming:
    result_id: int
    started: float = 0.0
    ended: float = 0.0
    status: str = ""
    calls: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each model call, perf_counter

    @property
    def wall_ms(self) -> float:
        return (self.ended - self.started) * 1000

    def llm_wait_ms(self, latency_ms: float) -> float:
        """The fixed latency of every call, calls that overlap counted once (the union of [start, start+latency])."""
        from behavior.engine.runtime import WaitClock

        latency = latency_ms / 1000
        return WaitClock([(start, min(end, start + latency)) for start, end in self.calls]).total_ms()


class Ledger:
    """Timings per attempt, the attempt a thread is running (its model calls are booked to it), and how many attempts
    run at once."""

    def __init__(self) -> None:
        self.attempts: dict[int, AttemptTiming] = {}
        self.running = 0
        self.most_running = 0
        self.unbooked_calls = 0  # model calls made outside an attempt (there should be none)
        self._lock = threading.Lock()
        self._current = threading.local()

    @contextlib.contextmanager
    def attempt(self, result_id: int) -> Iterator[AttemptTiming]:
        timing = AttemptTiming(result_id=result_id)
        with self._lock:
            self.attempts[result_id] = timing
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self._current.timing = timing
        timing.started = time.perf_counter()
        try:
            yield timing
        finally:
            timing.ended = time.perf_counter()
            self._current.timing = None
            with self._lock:
                self.running -= 1

    def call(self, start: float, end: float) -> None:
        timing: AttemptTiming | None = getattr(self._current, "timing", None)
        if timing is None:
            with self._lock:
                self.unbooked_calls += 1
            return
        timing.calls.append((start, end))


class CountedStream:
    """A streamed model call, booked when it ends (or is abandoned); `record` is the inner stream's."""

    def __init__(self, inner: Any, ledger: Ledger) -> None:
        self._inner, self._ledger = inner, ledger

    @property
    def record(self) -> Any:
        return getattr(self._inner, "record", None)

    def __aiter__(self) -> Any:
        return self._pieces()

    async def _pieces(self) -> Any:
        start = time.perf_counter()
        try:
            async for piece in self._inner:
                yield piece
        finally:
            self._ledger.call(start, time.perf_counter())


class CountedLLM:
    """The agent's LLM port with every call booked to the attempt of the calling thread."""

    def __init__(self, inner: Any, ledger: Ledger) -> None:
        self._inner, self._ledger = inner, ledger

    async def generate(self, request: Any, schema: Any, *, on_text: Any = None) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.generate(request, schema, on_text=on_text)
        finally:
            self._ledger.call(start, time.perf_counter())

    def stream(self, request: Any) -> CountedStream:
        return CountedStream(self._inner.stream(request), self._ledger)
