"""Journeys: a trigger enters; steps advance, skip, backtrack and exit; tool states run their tool."""

from __future__ import annotations

from behavior.engine.types import Journey, JourneyState, JourneyTransition, SessionState, Tool, ToolParameter
from tests.engine.builders import conversation, g, snapshot, turn
from tests.engine.fakes import FakeToolRunner, ScriptedLLM, journey_step, tool_call

LOOKUP = Tool(
    name="lookup_booking",
    description="Look up a booking",
    parameters=(ToolParameter(name="booking_reference", type="str"),),
)
REBOOKING = Journey(
    key="rebooking",
    title="Rebook a flight",
    triggers=("wants-rebooking",),
    states=(
        JourneyState(key="ask-booking", action="Ask for the booking reference", initial=True),
        JourneyState(key="lookup", kind="tool", tool="lookup_booking"),
        JourneyState(key="choose-flight", action="Offer the available flights"),
        JourneyState(key="seat", action="Ask for a seat preference"),
        JourneyState(key="confirm", action="Confirm the new flight"),
        JourneyState(key="done", kind="end", action="Thank the customer"),
    ),
    transitions=(
        JourneyTransition("ask-booking", "lookup", "The customer gave a booking reference"),
        JourneyTransition("lookup", "choose-flight"),
        JourneyTransition("choose-flight", "seat", "The customer chose a flight"),
        JourneyTransition("seat", "confirm", "The customer gave a seat preference"),
        JourneyTransition("confirm", "done", "The customer confirmed"),
    ),
)
WANTS_REBOOKING = g("wants-rebooking", "The customer wants to change their flight")
SEAT_TIP = g("seat-tip", "The customer asks about seats", "Mention the seat map", tags=("journey:rebooking",))


def _snap():
    return snapshot(guidelines=[WANTS_REBOOKING, SEAT_TIP], journeys=[REBOOKING], tools=[LOOKUP])


def _at(state: str, *path: str) -> SessionState:
    return SessionState(journeys={"rebooking": state}, journey_paths={"rebooking": (*path, state)})


def _moves(t) -> list[tuple[str, str | None, str | None, bool]]:
    return [(m["move"], m["from_state"], m["to_state"], m["valid"]) for m in t.trace["journeys"]["moves"]]


async def test_a_trigger_enters_the_journey_at_its_initial_state() -> None:
    t = await turn(_snap(), conversation("I need to change my flight"), llm=ScriptedLLM(applies={"wants-rebooking"}))

    assert t.result.state.journeys == {"rebooking": "ask-booking"}
    assert _moves(t) == [("enter", None, "ask-booking", True)]
    assert t.trace["journeys"]["moves"][0]["reason"] == "triggered by wants-rebooking"
    assert "current step [ask-booking]: Ask for the booking reference" in t.composition_prompt()


async def test_journey_scoped_guidelines_apply_only_while_the_journey_is_active() -> None:
    inactive = await turn(_snap(), conversation("which seats are free?"), llm=ScriptedLLM(applies={"seat-tip"}))
    active = await turn(
        _snap(),
        conversation("which seats are free?"),
        llm=ScriptedLLM(applies={"seat-tip"}),
        state=_at("choose-flight"),
    )

    assert "seat-tip" not in [c["key"] for c in inactive.trace["retrieval"]["candidates"]]
    assert "seat-tip" in active.trace["resolution"]["active"]


async def test_the_journey_advances_into_a_tool_state_runs_its_tool_and_moves_on() -> None:
    llm = ScriptedLLM(
        journeys={
            "rebooking": journey_step("advance", "lookup", tool_call("lookup_booking", booking_reference="ABC123"))
        }
    )
    tools = FakeToolRunner({"lookup_booking": {"flight": "SK101", "status": "confirmed"}})

    t = await turn(_snap(), conversation("My reference is ABC123"), llm=llm, tools=tools, state=_at("ask-booking"))

    assert [c.arguments for c in tools.called("lookup_booking")] == [{"booking_reference": "ABC123"}]
    assert _moves(t) == [("advance", "ask-booking", "lookup", True), ("auto", "lookup", "choose-flight", True)]
    assert t.result.state.journeys == {"rebooking": "choose-flight"}
    assert t.result.state.journey_paths["rebooking"] == ("ask-booking", "lookup", "choose-flight")
    prompt = t.composition_prompt()
    assert "current step [choose-flight]: Offer the available flights" in prompt
    assert '"flight": "SK101"' in prompt
    assert t.result.hops == 2


async def test_the_journey_skips_ahead_backtracks_and_exits() -> None:
    path = ("ask-booking", "lookup")
    skipped = await turn(
        _snap(),
        conversation("the 9am one, aisle seat"),
        llm=ScriptedLLM(journeys={"rebooking": journey_step("skip", "confirm")}),
        state=_at("choose-flight", *path),
    )
    assert _moves(skipped) == [("skip", "choose-flight", "confirm", True)]
    assert skipped.result.state.journeys == {"rebooking": "confirm"}

    backtracked = await turn(
        _snap(),
        conversation("wait, another flight"),
        llm=ScriptedLLM(journeys={"rebooking": journey_step("backtrack", "choose-flight")}),
        state=skipped.result.state,
    )
    assert _moves(backtracked) == [("backtrack", "confirm", "choose-flight", True)]
    assert backtracked.result.state.journey_paths["rebooking"] == ("ask-booking", "lookup", "choose-flight")
    assert "current step [choose-flight]" in backtracked.composition_prompt()

    exited = await turn(
        _snap(),
        conversation("forget it"),
        llm=ScriptedLLM(journeys={"rebooking": journey_step("exit")}),
        state=backtracked.result.state,
    )
    assert _moves(exited) == [("exit", "choose-flight", None, True)]
    assert exited.result.state.journeys == {}
    assert "rebooking" not in exited.result.state.journey_paths


async def test_an_invalid_move_is_traced_and_the_journey_stays() -> None:
    llm = ScriptedLLM(journeys={"rebooking": journey_step("advance", "confirm")})  # not a direct successor

    t = await turn(_snap(), conversation("hello"), llm=llm, state=_at("ask-booking"))

    move = t.trace["journeys"]["moves"][0]
    assert (move["move"], move["valid"]) == ("advance", False)
    assert move["reason"].startswith("invalid advance to confirm: staying")
    assert t.result.state.journeys == {"rebooking": "ask-booking"}


async def test_backtracking_to_a_state_never_visited_is_invalid() -> None:
    llm = ScriptedLLM(journeys={"rebooking": journey_step("backtrack", "seat")})

    t = await turn(_snap(), conversation("go back"), llm=llm, state=_at("confirm", "ask-booking", "choose-flight"))

    assert _moves(t)[0] == ("backtrack", "confirm", "seat", False)
    assert t.result.state.journeys == {"rebooking": "confirm"}


async def test_reaching_the_end_state_completes_the_journey_after_the_reply() -> None:
    llm = ScriptedLLM(journeys={"rebooking": journey_step("advance", "done")})

    t = await turn(_snap(), conversation("yes, confirmed"), llm=llm, state=_at("confirm"))

    assert _moves(t) == [("advance", "confirm", "done", True), ("complete", "done", "done", True)]
    assert "the journey is complete. Final step: Thank the customer" in t.composition_prompt()
    assert t.result.state.journeys == {}


async def test_a_tool_state_with_conditional_branches_gets_a_second_step_selection() -> None:
    branching = Journey(
        key="status",
        title="Flight status",
        states=(
            JourneyState(key="check", kind="tool", tool="lookup_booking", initial=True),
            JourneyState(key="on-time", action="Say the flight is on time"),
            JourneyState(key="late", action="Apologise for the delay"),
        ),
        transitions=(
            JourneyTransition("check", "on-time", "the flight is on time"),
            JourneyTransition("check", "late", "the flight is delayed"),
        ),
    )
    steps = iter(
        [
            journey_step("stay", "check", tool_call("lookup_booking", booking_reference="XYZ789")),
            journey_step("advance", "late"),
        ]
    )
    llm = ScriptedLLM(journeys={"status": lambda current, request: next(steps)})
    tools = FakeToolRunner({"lookup_booking": {"delay_minutes": 45}})

    t = await turn(
        snapshot(journeys=[branching], tools=[LOOKUP]),
        conversation("is XYZ789 late?"),
        llm=llm,
        tools=tools,
        state=SessionState(journeys={"status": "check"}),
    )

    assert [c.purpose for c in llm.calls if c.purpose != "analysis"] == ["journey", "journey", "composition"]
    assert '"delay_minutes": 45' in llm.calls_for("journey")[1].text  # the second selection saw the result
    assert t.result.state.journeys == {"status": "late"}
    assert t.result.hops == 3


async def test_a_free_text_condition_enters_a_journey_whose_tool_initial_state_gets_its_arguments_next_hop() -> None:
    status = Journey(
        key="status",
        title="Flight status",
        conditions=("The customer asks whether their flight is on time",),
        states=(
            JourneyState(key="check", kind="tool", tool="lookup_booking", initial=True),
            JourneyState(key="report", action="Report the status"),
        ),
        transitions=(JourneyTransition("check", "report"),),
    )
    llm = ScriptedLLM(
        applies={"journey:status:0"},
        journeys={"status": journey_step("stay", "check", tool_call("lookup_booking", booking_reference="QWE456"))},
    )
    tools = FakeToolRunner({"lookup_booking": {"on_time": True}})

    t = await turn(
        snapshot(journeys=[status], tools=[LOOKUP]), conversation("Is QWE456 on time?"), llm=llm, tools=tools
    )

    assert [c.purpose for c in llm.calls if c.purpose != "analysis"] == ["matching", "journey", "composition"]
    assert _moves(t) == [
        ("enter", None, "check", True),
        ("stay", "check", "check", True),
        ("auto", "check", "report", True),
    ]
    assert [dict(c.arguments) for c in tools.calls] == [{"booking_reference": "QWE456"}]
    assert t.result.state.journeys == {"status": "report"}
    assert t.result.hops == 3


async def test_an_entails_relationship_can_start_a_journey() -> None:
    from tests.engine.builders import rel

    lost = g("lost-bag", "The customer lost a bag", "Apologise")
    snap = snapshot(
        guidelines=[lost, WANTS_REBOOKING],
        journeys=[REBOOKING],
        tools=[LOOKUP],
        relationships=[rel("entails", "lost-bag", "rebooking", target_type="journey")],
    )

    t = await turn(snap, conversation("my bag is lost"), llm=ScriptedLLM(applies={"lost-bag"}))

    assert t.trace["journeys"]["moves"][0]["reason"] == "entailed by lost-bag"
    assert t.result.state.journeys == {"rebooking": "ask-booking"}
