"""Tool mocks of a test case: a fixed result (or an error) for calls whose arguments match, so runs are
reproducible; any other call goes to the agent's real tool. Pure Python: no Django."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from behavior.engine.ports import ToolCallRequest, ToolOutcome, ToolRunner
from behavior.evaluations.assertions import matcher_holds
from behavior.evaluations.format import ToolMock


class ToolMockError(Exception):
    """The error a mock was told to raise; the engine traces it like a failing tool."""


def mock_matches(mock: ToolMock, tool: str, arguments: Any) -> bool:
    if mock.tool != tool:
        return False
    given = arguments if isinstance(arguments, dict) else {}
    return all(matcher_holds(matcher, given.get(name), name in given) for name, matcher in mock.arguments.items())


class MockingToolRunner:
    """Answers from the first matching mock; records which calls it answered (`mocked`, or the given `record`
    list, so the runners of an attempt's turns share one)."""

    def __init__(
        self, inner: ToolRunner, mocks: Sequence[ToolMock], *, record: list[tuple[str, dict[str, Any]]] | None = None
    ) -> None:
        self._inner = inner
        self._mocks = tuple(mocks)
        self.mocked: list[tuple[str, dict[str, Any]]] = record if record is not None else []

    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        arguments = dict(call.arguments)
        for mock in self._mocks:
            if mock_matches(mock, call.tool_name, arguments):
                self.mocked.append((call.tool_name, arguments))
                if mock.error:
                    raise ToolMockError(mock.error)
                return ToolOutcome(data=mock.result)
        return await self._inner.run(call)
