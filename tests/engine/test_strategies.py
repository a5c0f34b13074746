"""Strategy per turn and hops on the critical path: 1 in single-pass, 2 otherwise, at most 3 with a tool round."""

from __future__ import annotations

from behavior.engine.types import CannedResponse, EngineConfig, Tool, ToolParameter
from tests.engine.builders import conversation, g, generated_guidelines, rel, snapshot, turn
from tests.engine.fakes import FakeToolRunner, ScriptedLLM, tool_call

FEW = [
    g("refund", "The customer asks for a refund", "Explain the refund policy"),
    g("baggage", "The customer asks about baggage", "Explain the baggage allowance"),
    g("greeting", "The customer greets the agent", "Greet them back"),
]


async def test_single_pass_is_chosen_when_candidates_are_few_and_costs_one_hop() -> None:
    llm = ScriptedLLM(applies={"refund"}, reply="Refunds take 7 days.")

    t = await turn(snapshot(guidelines=FEW), conversation("I want a refund"), llm=llm)

    assert t.trace["turn"]["strategy"] == "single_pass"
    assert [c.purpose for c in llm.calls] == ["single_pass"]
    assert t.result.hops == 1 and t.result.llm_calls == 1
    assert t.reply == "Refunds take 7 days."
    assert [v["key"] for v in t.trace["matching"]["verdicts"]] == ["refund", "baggage", "greeting"]
    assert t.trace["analysis"] == {"method": "followed", "applied": ["refund"], "not_applied": []}
    assert t.trace["composition"]["method"] == "single_pass"


async def test_two_passes_cost_two_hops_when_candidates_are_many() -> None:
    llm = ScriptedLLM(applies={"g-0001"})
    config = EngineConfig(single_pass_max_candidates=2)

    t = await turn(
        snapshot(guidelines=generated_guidelines(40)),
        conversation("What is the price of a window seat?"),
        llm=llm,
        config=config,
    )

    assert t.trace["turn"]["strategy"] == "two_pass"
    assert t.trace["turn"]["strategy_reason"].endswith("candidates > 2")
    critical = [c for c in t.trace["llm_calls"] if c["critical"]]
    assert {c["hop"] for c in critical} == {1, 2}
    assert [c["purpose"] for c in critical if c["hop"] == 2] == ["composition"]
    assert t.result.hops == 2


async def test_matching_batches_run_in_one_hop() -> None:
    llm = ScriptedLLM()
    config = EngineConfig(all_candidates_threshold=100, matching_batch_size=10, single_pass_max_candidates=0)

    t = await turn(snapshot(guidelines=generated_guidelines(25)), conversation("hello"), llm=llm, config=config)

    matching = llm.calls_for("matching")
    assert [len(c.ids) for c in matching] == [9, 9, 7]
    assert sorted(k for c in matching for k in c.ids) == sorted(f"g-{n:04d}" for n in range(25))
    assert {c["hop"] for c in t.trace["llm_calls"] if c["purpose"] == "matching"} == {1}
    assert t.trace["matching"]["batches"] == 3


async def test_a_tool_in_play_rules_out_single_pass_and_a_tool_round_stays_within_three_hops() -> None:
    lookup = Tool(name="lookup_booking", parameters=(ToolParameter(name="booking_reference"),))
    status = g("status", "asks about the booking status", "Tell the status", tools=("lookup_booking",))
    recheck = g("recheck", "the booking is delayed", "Apologise for the delay")
    snap = snapshot(
        guidelines=[status, recheck],
        tools=[lookup],
        relationships=[rel("reevaluate_after", "recheck", "lookup_booking", target_type="tool")],
    )
    llm = ScriptedLLM(
        applies={"status", "recheck"}, tool_calls={"status": [tool_call("lookup_booking", booking_reference="ABC123")]}
    )

    t = await turn(
        snap, conversation("status of ABC123?"), llm=llm, tools=FakeToolRunner({"lookup_booking": {"delayed": True}})
    )

    assert t.trace["turn"]["strategy_reason"] == "a candidate guideline can call tools"
    assert t.result.hops == 3
    assert [c.purpose for c in llm.calls] == ["matching", "reevaluation", "composition", "analysis"]


async def test_single_pass_composes_again_when_resolution_disagrees_with_the_model() -> None:
    guidelines = [*FEW, g("vip", "The customer is a VIP", "Offer priority handling")]
    snap = snapshot(guidelines=guidelines, relationships=[rel("overrides", "vip", "refund")])
    llm = ScriptedLLM(applies={"refund", "vip"})

    t = await turn(snap, conversation("VIP here, refund please"), llm=llm)

    assert t.trace["turn"]["strategy"] == "single_pass"
    assert t.trace["turn"]["strategy_reason"].endswith("composed again: resolution changed the active guidelines")
    assert [c.purpose for c in llm.calls] == ["single_pass", "composition", "analysis"]
    assert t.result.hops == 2
    single = llm.calls_for("single_pass")[0].text
    assert "RULES:\n- if both [vip] and [refund] apply, follow only the one with higher priority, else [vip]" in single


async def test_an_active_journey_rules_out_single_pass() -> None:
    from behavior.engine.types import Journey, JourneyState, SessionState

    journey = Journey(key="j", title="J", states=(JourneyState(key="s", action="do s", initial=True),))

    t = await turn(
        snapshot(guidelines=FEW, journeys=[journey]), conversation("hi"), state=SessionState(journeys={"j": "s"})
    )

    assert t.trace["turn"]["strategy_reason"] == "a journey is active"
    assert [c.purpose for c in t.llm.calls][:2] == ["matching", "journey"]
    assert {c["hop"] for c in t.trace["llm_calls"] if c["purpose"] in ("matching", "journey")} == {1}


async def test_a_single_pass_reply_streams_while_the_model_writes_it() -> None:
    reply = "Refunds reach your card within 7 days; I can start one now if you like."
    llm = ScriptedLLM(applies={"refund"}, reply=reply, chunk_size=5)

    t = await turn(snapshot(guidelines=FEW), conversation("I want a refund"), llm=llm)

    assert llm.calls_for("single_pass")[0].streamed
    chunks = t.emitter.of("chunk")
    (message,) = t.emitter.replies
    assert len(chunks) > 5  # in pieces, not as one block at the end
    assert "".join(c["text"] for c in chunks) == reply == message["text"]
    assert {c["message_id"] for c in chunks} == {message["message_id"]}
    assert t.trace["composition"]["streamed"] is True
    # Every chunk left before the message: the customer reads the reply while it is written.
    kinds = [kind for kind, _ in t.emitter.events if kind in ("chunk", "message")]
    assert kinds == ["chunk"] * len(chunks) + ["message"]


async def test_a_single_pass_reply_that_resolution_discards_is_never_streamed() -> None:
    guidelines = [*FEW, g("vip", "The customer is a VIP", "Offer priority handling")]
    snap = snapshot(guidelines=guidelines, relationships=[rel("overrides", "vip", "refund")])
    llm = ScriptedLLM(applies={"refund", "vip"}, reply="Here is our refund policy and priority handling.")

    t = await turn(snap, conversation("VIP here, refund please"), llm=llm)

    (message,) = t.emitter.replies
    assert {c["message_id"] for c in t.emitter.of("chunk")} == {message["message_id"]}  # only the recomposed reply
    assert "composed again" in t.trace["turn"]["strategy_reason"]


async def test_nothing_is_streamed_from_a_single_pass_over_input_that_moderation_flags() -> None:
    abuse = "You idiot, give me a refund"
    llm = ScriptedLLM(applies={"refund"}, flagged=lambda text: "idiot" in text, reply="Refunds take 7 days.")

    t = await turn(snapshot(guidelines=FEW, moderation=True), conversation(abuse), llm=llm)

    first, second = llm.calls_for("single_pass")
    assert first.streamed and not second.streamed  # the redo on the censored text is not streamed
    (message,) = t.emitter.replies
    assert [c["message_id"] for c in t.emitter.of("chunk")] == [message["message_id"]]  # sent whole, once
    assert "composed again" not in t.trace["turn"]["strategy_reason"]


async def test_strict_mode_never_streams_the_single_pass_answer() -> None:
    greeting = CannedResponse(key="greeting", template="Hello! How can I help?", signals=("hello",))
    snap = snapshot(guidelines=FEW, canned=[greeting], composition_mode="strict")
    llm = ScriptedLLM(applies={"greeting"}, canned_choice="greeting", reply="FREE TEXT THAT MUST NOT BE SENT")

    t = await turn(snap, conversation("hello"), llm=llm)

    assert t.trace["turn"]["strategy"] == "single_pass"
    assert not llm.calls_for("single_pass")[0].streamed
    assert t.emitter.chunks == ["Hello! How can I help?"]
