"""AgentToolRunner with Python tools: argument coercion, sync and async functions, ToolOutcome
passthrough, the context parameter, and bounded results."""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

import pytest

from agents.tools import (
    AgentToolRunner,
    ToolArgumentError,
    ToolBinding,
    ToolContext,
    ToolDefinition,
    ToolDefinitionError,
    ToolNotFound,
    ToolResultError,
    ToolResultTooLarge,
    agent_tool_runner_from_document,
    registered_tool,
    tool,
    tool_outcome_from_result,
    tool_unregister,
)
from behavior.engine.ports import ToolCallRequest, ToolOutcome


class Cabin(enum.Enum):
    ECONOMY = "economy"
    BUSINESS = "business"


calls: list[dict[str, Any]] = []


@tool(name="runner_rebook")
def runner_rebook(
    booking_reference: str,
    travel_date: date,
    departure: datetime,
    cabin: Cabin,
    passengers: int,
    seats: list[Literal[1, 2, 3]],
    flexible: bool = False,
    note: str | None = None,
    context: ToolContext | None = None,
) -> dict[str, Any]:
    """Rebook a flight (synchronous; records what it received)."""
    calls.append(
        {
            "booking_reference": booking_reference,
            "travel_date": travel_date,
            "departure": departure,
            "cabin": cabin,
            "passengers": passengers,
            "seats": seats,
            "flexible": flexible,
            "note": note,
            "context": context,
            "thread": threading.current_thread().name,
        }
    )
    return {"status": "rebooked", "date": travel_date, "cabin": cabin}


@tool(name="runner_async_handoff")
async def runner_async_handoff(reason: str) -> ToolOutcome:
    """Hand the session to a human."""
    await asyncio.sleep(0)
    return ToolOutcome(
        data={"handed_off": True, "at": datetime(2025, 1, 2, 3, 4, tzinfo=UTC)},
        control={"mode": "human"},
        guidelines=({"condition": "always", "action": f"Tell the customer: {reason}"},),
        canned_fields={"amount": Decimal("12.50")},
    )


@tool(name="runner_big_result")
def runner_big_result(size: int) -> str:
    """Return `size` characters."""
    return "x" * size


@tool(name="runner_unserialisable")
def runner_unserialisable() -> object:
    """Return something that is not JSON."""
    return object()


@tool(name="runner_failing")
async def runner_failing() -> None:
    """Always fails."""
    raise RuntimeError("the backend is down")


NAMES = ["runner_rebook", "runner_async_handoff", "runner_big_result", "runner_unserialisable", "runner_failing"]


@pytest.fixture(scope="module", autouse=True)
def unregister_at_the_end() -> Iterator[None]:
    yield
    for name in NAMES:
        tool_unregister(name)


@pytest.fixture
def runner() -> AgentToolRunner:
    calls.clear()
    return AgentToolRunner({name: ToolBinding(registered_tool(name).definition) for name in NAMES})


def request(tool_name: str, arguments: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(
        tool_name=tool_name, arguments=arguments, session_id="s-1", customer_id="c-9", timeout_seconds=5
    )


async def test_it_coerces_model_arguments_to_the_declared_types(runner: AgentToolRunner) -> None:
    outcome = await runner.run(
        request(
            "runner_rebook",
            {
                "booking_reference": 482913,
                "travel_date": "2025-03-14",
                "departure": "2025-03-14T09:30:00Z",
                "cabin": "business",
                "passengers": "2",
                "seats": [1, "3"],
                "flexible": "true",
            },
        )
    )
    (received,) = calls
    assert received["booking_reference"] == "482913"
    assert received["travel_date"] == date(2025, 3, 14)
    assert received["departure"] == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert received["cabin"] is Cabin.BUSINESS
    assert received["passengers"] == 2
    assert received["seats"] == [1, 3]
    assert received["flexible"] is True
    assert received["note"] is None  # optional without default: passed as None
    assert received["context"] == ToolContext(session_id="s-1", customer_id="c-9", tool_name="runner_rebook")
    assert received["thread"] != threading.current_thread().name  # a sync tool runs in a worker thread
    assert outcome == ToolOutcome(data={"status": "rebooked", "date": "2025-03-14", "cabin": "business"})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"booking_reference": None}, "missing required argument"),
        ({"travel_date": "14/03/2025"}, "ISO date"),
        ({"departure": "tomorrow morning"}, "ISO datetime"),
        ({"cabin": "first"}, "expected one of economy, business"),
        ({"passengers": 2.5}, "expected an integer"),
        ({"passengers": True}, "got a boolean"),
        ({"seats": "1"}, "expected a list"),
        ({"seats": [4]}, r"seats\[0\]: expected one of 1, 2, 3"),
        ({"flexible": "maybe"}, "expected true or false"),
        ({"loyalty_tier": "gold"}, "unknown argument"),
    ],
)
async def test_it_rejects_arguments_that_do_not_fit(
    runner: AgentToolRunner, arguments: dict[str, Any], message: str
) -> None:
    valid = {
        "booking_reference": "ABC123",
        "travel_date": "2025-03-14",
        "departure": "2025-03-14T09:30:00",
        "cabin": "economy",
        "passengers": 1,
        "seats": [1],
    }
    with pytest.raises(ToolArgumentError, match=message):
        await runner.run(request("runner_rebook", {**valid, **arguments}))
    assert calls == []


async def test_it_passes_a_tool_outcome_through_as_plain_json(runner: AgentToolRunner) -> None:
    outcome = await runner.run(request("runner_async_handoff", {"reason": "a specialist will call"}))
    assert outcome == ToolOutcome(
        data={"handed_off": True, "at": "2025-01-02T03:04:00+00:00"},
        control={"mode": "human"},
        guidelines=({"condition": "always", "action": "Tell the customer: a specialist will call"},),
        canned_fields={"amount": "12.50"},
    )


async def test_it_rejects_a_result_above_64_kib(runner: AgentToolRunner) -> None:
    fits = await runner.run(request("runner_big_result", {"size": 60_000}))
    assert len(fits.data) == 60_000
    with pytest.raises(ToolResultTooLarge, match="above the limit of 65536"):
        await runner.run(request("runner_big_result", {"size": 70_000}))


async def test_it_rejects_a_result_that_is_not_json(runner: AgentToolRunner) -> None:
    with pytest.raises(ToolResultError, match="not JSON-serialisable"):
        await runner.run(request("runner_unserialisable", {}))


async def test_tool_exceptions_propagate_to_the_engine(runner: AgentToolRunner) -> None:
    with pytest.raises(RuntimeError, match="the backend is down"):
        await runner.run(request("runner_failing", {}))


async def test_it_refuses_tools_not_bound_to_the_agent() -> None:
    runner = AgentToolRunner({"runner_big_result": ToolBinding(registered_tool("runner_big_result").definition)})
    with pytest.raises(ToolNotFound, match="runner_failing"):
        await runner.run(request("runner_failing", {}))


async def test_it_builds_from_a_behavior_document() -> None:
    document = {
        "tool_services": [{"name": "crm", "url": "http://127.0.0.1:9/openapi.json", "timeout_seconds": 5}],
        "tools": [
            registered_tool("runner_big_result").definition.to_document(),
            {
                "name": "crm_lookup",
                "description": "CRM",
                "implementation": "remote",
                "service": "crm",
                "parameters": [],
            },
        ],
    }
    runner = agent_tool_runner_from_document(document)
    assert runner.bindings["crm_lookup"].service_url == "http://127.0.0.1:9/openapi.json"
    assert runner.bindings["runner_big_result"].implementation == "python"
    assert (await runner.run(request("runner_big_result", {"size": 3}))).data == "xxx"

    document["tools"][1]["service"] = "unknown"
    with pytest.raises(ToolDefinitionError, match="unknown tool service"):
        agent_tool_runner_from_document(document)


def test_a_binding_must_match_its_name() -> None:
    with pytest.raises(ToolDefinitionError, match="holds the definition"):
        AgentToolRunner({"a_tool": ToolBinding(ToolDefinition(name="b_tool", description="B"))})
    with pytest.raises(ToolDefinitionError, match="needs a service URL"):
        ToolBinding(ToolDefinition(name="b_tool", description="B"), "remote")


def test_a_malformed_tool_outcome_is_a_result_error() -> None:
    with pytest.raises(ToolResultError, match="malformed ToolOutcome"):
        tool_outcome_from_result(ToolOutcome(data=None, guidelines=("not a mapping",)))  # type: ignore[arg-type]
    with pytest.raises(ToolResultTooLarge):
        tool_outcome_from_result(ToolOutcome(data=None, canned_fields={"x": "y" * 100}), max_bytes=50)
