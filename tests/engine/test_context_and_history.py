"""Context: variable values and tool-fed refresh by freshness; bounded history with key facts kept."""

from __future__ import annotations

from datetime import timedelta

from behavior.engine.history import extract_key_facts, history_build
from behavior.engine.ports import ToolOutcome
from behavior.engine.types import (
    CachedVariable,
    ContextVariable,
    CustomerInfo,
    EngineConfig,
    InteractionEvent,
    SessionState,
    Tool,
    ToolParameter,
)
from tests.engine.builders import conversation, g, snapshot, turn
from tests.engine.fakes import FakeClock, FakeToolRunner, ScriptedLLM

REFUND = g("refund", "The customer asks for a refund", "Explain the refund policy")
BALANCE_TOOL = Tool(name="miles_balance", parameters=(ToolParameter(name="customer_id"),))
BALANCE = ContextVariable(name="miles", description="Miles balance", tool="miles_balance", freshness_seconds=300)


async def test_a_tool_fed_variable_is_fetched_cached_and_refreshed_when_stale() -> None:
    clock = FakeClock()
    values = iter([{"miles": 1200}, {"miles": 1500}])
    tools = FakeToolRunner({"miles_balance": lambda arguments: ToolOutcome(data=next(values))})
    snap = snapshot(guidelines=[REFUND], variables=[BALANCE], tools=[BALANCE_TOOL])

    first = await turn(snap, conversation("refund?"), tools=tools, clock=clock)
    assert [dict(c.arguments) for c in tools.calls] == [{"customer_id": "c-1"}]
    assert first.result.state.variables["miles"] == CachedVariable(value=1200, fetched_at=clock.now())
    assert "- miles (Miles balance): 1200" in first.composition_prompt()

    clock.advance(60)
    fresh = await turn(snap, conversation("refund?"), tools=tools, clock=clock, state=first.result.state)
    assert len(tools.calls) == 1
    assert fresh.trace["context"]["variables"][0]["source"] == "tool:miles_balance (cached)"

    clock.advance(300)
    stale = await turn(snap, conversation("refund?"), tools=tools, clock=clock, state=fresh.result.state)
    assert len(tools.calls) == 2
    assert stale.result.state.variables["miles"].value == 1500
    assert stale.trace["context"]["variables"][0]["refreshed"] is True
    assert stale.trace["tools"]["calls"][0]["source"] == "variable:miles"


async def test_a_failed_refresh_keeps_the_stale_value_and_is_traced() -> None:
    clock = FakeClock()
    old = CachedVariable(value=900, fetched_at=clock.now() - timedelta(hours=1))
    tools = FakeToolRunner({"miles_balance": ConnectionError("loyalty service down")})
    snap = snapshot(guidelines=[REFUND], variables=[BALANCE], tools=[BALANCE_TOOL])

    t = await turn(
        snap, conversation("refund?"), tools=tools, clock=clock, state=SessionState(variables={"miles": old})
    )

    assert t.result.outcome == "replied"
    assert t.result.state.variables["miles"] == old
    row = t.trace["context"]["variables"][0]
    assert (row["value"], row["error"]) == (900, "ConnectionError: loyalty service down")


async def test_variable_values_prefer_the_customer_then_their_tags_then_the_default() -> None:
    variable = ContextVariable(name="tier", default="standard", tag_values={"vip": "gold"})
    snap = snapshot(guidelines=[REFUND], variables=[variable])
    config = EngineConfig(single_pass_max_candidates=0)

    own = await turn(
        snap,
        conversation("hi", customer=CustomerInfo(id="1", tags=("vip",), variables={"tier": "platinum"})),
        config=config,
    )
    tagged = await turn(snap, conversation("hi", customer=CustomerInfo(id="2", tags=("vip",))), config=config)
    default = await turn(snap, conversation("hi", customer=CustomerInfo(id="3")), config=config)

    assert [t.trace["context"]["variables"][0]["value"] for t in (own, tagged, default)] == [
        "platinum",
        "gold",
        "standard",
    ]


async def test_journey_scoped_variables_are_left_out_while_the_journey_is_inactive() -> None:
    variable = ContextVariable(name="rebook_fee", default="50 EUR", tags=("journey:rebooking",))

    t = await turn(snapshot(guidelines=[REFUND], variables=[variable]), conversation("hi"))

    assert t.trace["context"]["variables"] == []


def _events(count: int) -> tuple[InteractionEvent, ...]:
    return tuple(
        InteractionEvent(
            offset=i, source="customer" if i % 2 == 0 else "agent", text=f"message number {i} " + "words " * 20
        )
        for i in range(count)
    )


def test_older_history_is_summarised_and_the_last_messages_kept_verbatim() -> None:
    config = EngineConfig(history_verbatim_messages=6, history_token_budget=10_000, summary_max_chars=5000)

    view = history_build(events=_events(20), state=SessionState(), config=config, censored={})

    assert [line.offset for line in view.verbatim] == list(range(14, 20))
    assert view.summarised == 14
    assert view.summary.splitlines()[0].startswith("customer: message number 0")
    assert view.summary_until_offset == 13
    assert "Earlier conversation (summary)" in view.render()


def test_the_history_token_budget_trims_verbatim_messages_but_keeps_the_last_customer_message() -> None:
    config = EngineConfig(history_verbatim_messages=12, history_token_budget=60)

    view = history_build(events=_events(12), state=SessionState(), config=config, censored={})

    assert view.verbatim[-1].offset == 11
    assert any(line.source == "customer" for line in view.verbatim)
    assert len(view.verbatim) < 12
    assert view.summarised == 12 - len(view.verbatim)


def test_the_summary_is_incremental_and_capped() -> None:
    config = EngineConfig(history_verbatim_messages=2, history_token_budget=10_000, summary_max_chars=300)
    state = SessionState(summary="customer: old line", summary_until_offset=3)

    view = history_build(events=_events(10), state=state, config=config, censored={})

    assert len(view.summary) <= 300
    assert view.summary.splitlines()[-1].startswith("agent: message number 7")
    assert "message number 3 " not in view.summary  # already summarised before
    assert "old line" not in view.summary  # the oldest lines give way to the cap


def test_key_facts_survive_trimming() -> None:
    events = (
        InteractionEvent(offset=0, source="customer", text="My booking is ABC123 and my email is ada@example.com"),
        *[InteractionEvent(offset=i, source="agent" if i % 2 else "customer", text="ok") for i in range(1, 30)],
    )
    config = EngineConfig(history_verbatim_messages=4)

    view = history_build(events=events, state=SessionState(), config=config, censored={})

    assert "ABC123" in view.key_facts and "ada@example.com" in view.key_facts
    assert (
        "Key facts from the customer: ABC123; ada@example.com" in view.render()
        or "ada@example.com; ABC123" in view.render()
    )


def test_key_fact_extraction_finds_identifiers_dates_and_numbers() -> None:
    facts = extract_key_facts("Order 884213, ref XK-99Z1, flying 2026-05-04, call +44 20 7946 0958")

    assert {"884213", "XK-99Z1", "2026-05-04", "+44 20 7946 0958"} <= set(facts)
    assert extract_key_facts("hello there, how are you today?") == []


async def test_long_conversations_keep_prompts_bounded() -> None:
    texts = [f"message {i} " + "blah " * 300 for i in range(200)]
    llm = ScriptedLLM()

    t = await turn(
        snapshot(guidelines=[REFUND]), conversation(*texts), llm=llm, config=EngineConfig(single_pass_max_candidates=0)
    )

    for call in t.trace["llm_calls"]:
        assert call["sections"].get("history", 0) <= EngineConfig().history_token_budget + 400
