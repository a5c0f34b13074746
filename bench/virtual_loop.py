"""An asyncio event loop whose clock skips idle waits: simulated LLM latency costs no real time.

`loop.time()` is real monotonic time plus every wait the loop skipped. A wait is skipped only when
nothing else can happen in the meantime: no callback is ready, no I/O event is pending and no executor
job is running. So CPU work (the engine's overhead) advances the clock at real speed, while
`asyncio.sleep(0.4)` in a fake LLM advances it by exactly 0.4 s at once, and concurrent sleeps overlap
as they would against a real server. Timeouts (`asyncio.timeout`, `wait_for`) run on the same clock.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


class _SkippingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls instead of blocking when the loop is idle until its next timer, and records the skip."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped = 0.0
        self.executor_jobs = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout <= 0 or self.executor_jobs:
            # No timer to jump to, a ready callback, or a thread doing real work: wait for real.
            return super().select(timeout)
        events = super().select(0)
        if not events:
            self.skipped += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Use with `asyncio.Runner(loop_factory=VirtualTimeLoop)`."""

    def __init__(self) -> None:
        self._skipping_selector = _SkippingSelector()
        super().__init__(self._skipping_selector)

    def time(self) -> float:
        return time.monotonic() + self._skipping_selector.skipped

    @property
    def skipped_seconds(self) -> float:
        """Total simulated waiting so far (virtual time minus real time)."""
        return self._skipping_selector.skipped

    def run_in_executor(self, executor: Executor | None, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self._skipping_selector.executor_jobs += 1

        def done(_: asyncio.Future[T]) -> None:
            self._skipping_selector.executor_jobs -= 1

        future.add_done_callback(done)
        return future
