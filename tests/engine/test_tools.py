"""Tools: typed validation, questions for missing arguments, parallel runs with timeouts, contained
failures, handoff and transient guidelines, overlap, and re-evaluation bounded by the agent's setting."""

from __future__ import annotations

import asyncio

import pytest

from behavior.engine.ports import ToolOutcome
from behavior.engine.tools import argument_normalize, tool_call_validate
from behavior.engine.types import Tool, ToolParameter
from tests.engine.builders import conversation, g, rel, snapshot, turn
from tests.engine.fakes import FakeToolRunner, ScriptedLLM, tool_call

LOOKUP = Tool(
    name="lookup_booking",
    description="Look up a booking by its reference",
    timeout_seconds=0.05,
    parameters=(
        ToolParameter(name="booking_reference", type="str", description="Six-character booking reference"),
        ToolParameter(name="include_history", type="bool", required=False),
    ),
)
STATUS = g(
    "booking-status",
    "The customer asks about their booking status",
    "Tell the status of the booking",
    tools=("lookup_booking",),
)


def _lookup_snap(**agent):
    return snapshot(guidelines=[STATUS], tools=[LOOKUP], **agent)


async def test_a_missing_required_argument_makes_the_reply_ask_for_it_and_the_tool_does_not_run() -> None:
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="<ask the customer>")]},
    )
    tools = FakeToolRunner({"lookup_booking": {"status": "confirmed"}})

    t = await turn(_lookup_snap(), conversation("What's the status of my booking?"), llm=llm, tools=tools)

    assert tools.calls == []
    call = t.trace["tools"]["calls"][0]
    assert (call["tool"], call["valid"], call["status"], call["missing"]) == (
        "lookup_booking",
        False,
        "invalid",
        ["booking_reference"],
    )
    insight = "To use the lookup_booking tool you need the customer's booking reference (Six-character booking reference): ask the customer for it (the tool was not run)."
    assert t.trace["tools"]["insights"] == [insight]
    assert insight in t.composition_prompt()
    assert t.emitter.of("tool") == [
        {"tool": "lookup_booking", "status": "invalid", "missing": ["booking_reference"], "invalid": []}
    ]


async def test_an_invalid_required_argument_is_a_question_too() -> None:
    tool = Tool(name="count_bags", parameters=(ToolParameter(name="bags", type="int"),))
    guideline = g("bags", "asks about bags", "count them", tools=("count_bags",))
    llm = ScriptedLLM(applies={"bags"}, tool_calls={"bags": [tool_call("count_bags", bags="a few")]})
    tools = FakeToolRunner({"count_bags": 1})

    t = await turn(snapshot(guidelines=[guideline], tools=[tool]), conversation("bags?"), llm=llm, tools=tools)

    assert tools.calls == []
    assert t.trace["tools"]["calls"][0]["invalid"] == ["bags: expected a whole number"]
    assert "is not valid (expected a whole number): ask the customer for a valid one" in t.composition_prompt()


async def test_a_valid_call_runs_with_typed_arguments_and_its_result_reaches_the_reply() -> None:
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={
            "booking-status": [
                tool_call("lookup_booking", booking_reference=" ABC123 ", include_history="yes", invented="x")
            ]
        },
    )
    tools = FakeToolRunner({"lookup_booking": ToolOutcome(data={"status": "confirmed", "seat": "12A"})})

    t = await turn(_lookup_snap(), conversation("Status of ABC123?"), llm=llm, tools=tools)

    assert [dict(c.arguments) for c in tools.calls] == [{"booking_reference": "ABC123", "include_history": True}]
    assert tools.calls[0].session_id == "session-1" and tools.calls[0].customer_id == "c-1"
    call = t.trace["tools"]["calls"][0]
    assert (call["status"], call["result"]) == ("ok", {"status": "confirmed", "seat": "12A"})
    assert (
        'lookup_booking({"booking_reference": "ABC123", "include_history": true}) returned: {"seat": "12A", "status": "confirmed"}'
        in t.composition_prompt()
    )
    assert t.result.hops == 2


async def test_a_tool_timeout_is_traced_and_the_turn_still_answers() -> None:
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="ABC123")]},
    )
    tools = FakeToolRunner({"lookup_booking": {"status": "confirmed"}}, delays={"lookup_booking": 1.0})

    t = await turn(_lookup_snap(), conversation("Status of ABC123?"), llm=llm, tools=tools)

    call = t.trace["tools"]["calls"][0]
    assert call["status"] == "timeout"
    assert call["error"] == "timed out after 0.05s"
    assert call["duration_ms"] < 900
    assert t.result.outcome == "replied"
    assert t.reply == "Here is what I can tell you."
    assert "The lookup_booking tool did not answer in time" in t.composition_prompt()


async def test_a_tool_exception_is_contained_and_traced() -> None:
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="ABC123")]},
    )
    tools = FakeToolRunner({"lookup_booking": RuntimeError("CRM is down")})

    t = await turn(_lookup_snap(), conversation("Status of ABC123?"), llm=llm, tools=tools)

    call = t.trace["tools"]["calls"][0]
    assert (call["status"], call["error"]) == ("error", "RuntimeError: CRM is down")
    assert t.result.outcome == "replied"
    assert "The lookup_booking tool failed" in t.composition_prompt()


async def test_a_tool_result_hands_the_session_to_a_human() -> None:
    escalate = Tool(name="escalate", description="Hand over to a human")
    guideline = g("wants-human", "The customer asks for a human", "Hand the conversation over", tools=("escalate",))
    llm = ScriptedLLM(applies={"wants-human"}, tool_calls={"wants-human": [tool_call("escalate")]})
    tools = FakeToolRunner({"escalate": ToolOutcome(data={"queued": True}, control={"mode": "human"})})

    t = await turn(
        snapshot(guidelines=[guideline], tools=[escalate]),
        conversation("Let me talk to a person"),
        llm=llm,
        tools=tools,
    )

    assert t.result.outcome == "handed_off"
    assert t.result.state.mode == "human"
    assert "The session is being handed over to a human operator" in t.composition_prompt()
    assert len(t.emitter.replies) == 1


async def test_a_tool_result_adds_transient_guidelines_and_canned_fields() -> None:
    outcome = ToolOutcome(
        data={"status": "cancelled"},
        guidelines=({"condition": "the booking is cancelled", "action": "Offer a rebooking"},),
    )
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="ABC123")]},
    )

    t = await turn(
        _lookup_snap(), conversation("Status of ABC123?"), llm=llm, tools=FakeToolRunner({"lookup_booking": outcome})
    )

    added = [d for d in t.trace["resolution"]["decisions"] if d["kind"] == "tool_result"]
    assert added == [
        {
            "guideline": "tool:lookup_booking:0",
            "action": "added",
            "reason": "added by tool lookup_booking",
            "kind": "tool_result",
            "by": None,
        }
    ]
    assert "THEN Offer a rebooking" in t.composition_prompt()
    assert "tool:lookup_booking:0" not in [a.key for a in t.result.state.applied]


async def test_valid_calls_run_in_parallel() -> None:
    a = Tool(name="tool_a")
    b = Tool(name="tool_b")
    guideline = g("both", "needs both", "use both", tools=("tool_a", "tool_b"))
    llm = ScriptedLLM(applies={"both"}, tool_calls={"both": [tool_call("tool_a"), tool_call("tool_b")]})

    async def slow(_: dict) -> str:
        await asyncio.sleep(0.2)
        return "done"

    t = await turn(
        snapshot(guidelines=[guideline], tools=[a, b]),
        conversation("go"),
        llm=llm,
        tools=FakeToolRunner({"tool_a": slow, "tool_b": slow}),
    )

    assert [c["status"] for c in t.trace["tools"]["calls"]] == ["ok", "ok"]
    assert 190 < t.trace["timings"]["tool_wait_ms"] < 380


async def test_of_two_overlapping_tools_only_the_higher_priority_proposal_runs() -> None:
    by_ref = Tool(name="find_by_reference")
    by_name = Tool(name="find_by_name")
    high = g("high", "asks about a booking", "find it", tools=("find_by_reference",), priority=2)
    low = g("low", "mentions their name", "find it", tools=("find_by_name",))
    llm = ScriptedLLM(
        applies={"high", "low"},
        tool_calls={"high": [tool_call("find_by_reference")], "low": [tool_call("find_by_name")]},
    )
    tools = FakeToolRunner({"find_by_reference": 1, "find_by_name": 2})
    snap = snapshot(
        guidelines=[high, low],
        tools=[by_ref, by_name],
        relationships=[
            rel("tools_overlap", "find_by_name", "find_by_reference", source_type="tool", target_type="tool")
        ],
    )

    t = await turn(snap, conversation("Ada here, booking?"), llm=llm, tools=tools)

    assert [c.tool_name for c in tools.calls] == ["find_by_reference"]
    skipped = next(c for c in t.trace["tools"]["calls"] if c["status"] == "skipped")
    assert (skipped["tool"], skipped["error"]) == ("find_by_name", "overlaps with find_by_reference (tools_overlap)")


async def test_a_reevaluate_after_relationship_rematches_after_the_tool_within_three_hops() -> None:
    upsell = g("upsell", "The booking allows an upgrade", "Offer the upgrade")
    snap = _lookup_snap()
    snap = snapshot(
        guidelines=[STATUS, upsell],
        tools=[LOOKUP],
        relationships=[rel("reevaluate_after", "upsell", "lookup_booking", target_type="tool")],
    )
    seen_result = []

    def applies(key: str, request) -> bool:
        if key == "upsell":
            seen_result.append(request.purpose)
            return request.purpose == "reevaluation" and "upgradeable" in request.messages[-1].content
        return key == "booking-status"

    llm = ScriptedLLM(
        applies=applies, tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="ABC123")]}
    )
    tools = FakeToolRunner({"lookup_booking": {"fare": "upgradeable"}})

    t = await turn(snap, conversation("Status of ABC123?"), llm=llm, tools=tools)

    assert [c.purpose for c in llm.calls] == ["matching", "reevaluation", "composition", "analysis"]
    assert seen_result == ["matching", "reevaluation"]
    assert "upsell" in t.trace["resolution"]["active"]
    assert t.result.hops == 3
    assert t.trace["turn"]["iterations"] == 2


async def test_reevaluation_is_bounded_by_max_preparation_iterations() -> None:
    upsell = g("upsell", "The booking allows an upgrade", "Offer the upgrade")
    snap = snapshot(
        guidelines=[STATUS, upsell],
        tools=[LOOKUP],
        relationships=[rel("reevaluate_after", "upsell", "lookup_booking", target_type="tool")],
        max_preparation_iterations=1,
    )
    llm = ScriptedLLM(
        applies={"booking-status"},
        tool_calls={"booking-status": [tool_call("lookup_booking", booking_reference="ABC123")]},
    )

    t = await turn(
        snap, conversation("Status of ABC123?"), llm=llm, tools=FakeToolRunner({"lookup_booking": {"fare": "x"}})
    )

    assert [c.purpose for c in llm.calls] == ["matching", "composition", "analysis"]
    assert t.result.hops == 2


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("int", "42", 42),
        ("int", "1,200", 1200),
        ("int", 7.0, 7),
        ("float", "3.5", 3.5),
        ("bool", "No", False),
        ("date", "2026-03-01", "2026-03-01"),
        ("datetime", "2026-03-01T10:30:00+01:00", "2026-03-01T10:30:00+01:00"),
        ("list", '["a", "b"]', ["a", "b"]),
        ("list", "a, b", ["a", "b"]),
    ],
)
def test_arguments_are_coerced_to_their_parameter_type(kind: str, raw: object, expected: object) -> None:
    assert argument_normalize(ToolParameter(name="x", type=kind), raw) == expected


@pytest.mark.parametrize(
    ("parameter", "raw"),
    [
        (ToolParameter(name="x", type="int"), "4.5"),
        (ToolParameter(name="x", type="int"), True),
        (ToolParameter(name="x", type="float"), "nan"),
        (ToolParameter(name="x", type="bool"), "maybe"),
        (ToolParameter(name="x", type="date"), "01/03/2026"),
        (ToolParameter(name="x", type="datetime"), "tomorrow"),
        (ToolParameter(name="x", type="enum", enum=("economy", "business")), "first"),
        (ToolParameter(name="x", type="list", items="int"), '[1, "two"]'),
        (ToolParameter(name="x", type="str"), "x" * 2001),
    ],
)
def test_invalid_arguments_are_rejected(parameter: ToolParameter, raw: object) -> None:
    with pytest.raises(ValueError):
        argument_normalize(parameter, raw)


def test_an_enum_value_is_matched_case_insensitively_to_its_canonical_spelling() -> None:
    tool = Tool(name="t", parameters=(ToolParameter(name="cabin", type="enum", enum=("Economy", "Business")),))

    validated = tool_call_validate(tool, {"cabin": "business", "other": "x"})

    assert validated.valid
    assert validated.arguments == {"cabin": "Business"}
    assert validated.unknown == ("other",)
