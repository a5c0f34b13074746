"""Relationship resolution: every kind decided deterministically, each decision with its reason."""

from __future__ import annotations

from behavior.engine.index import index_build
from behavior.engine.resolution import resolve
from tests.engine.builders import conversation, g, rel, snapshot, turn
from tests.engine.fakes import ScriptedLLM

REFUND = g("refund-policy", "The customer asks for a refund", "Explain the standard refund policy")
VIP_REFUND = g("vip-refund", "A VIP customer asks for a refund", "Offer an immediate full refund")


def _decision(result_trace: dict, key: str) -> dict:
    return next(d for d in result_trace["resolution"]["decisions"] if d["guideline"] == key)


async def test_an_overridden_guideline_is_dropped_with_its_reason_in_the_trace() -> None:
    snap = snapshot(guidelines=[REFUND, VIP_REFUND], relationships=[rel("overrides", "vip-refund", "refund-policy")])

    t = await turn(
        snap, conversation("I'm a VIP and I want a refund"), llm=ScriptedLLM(applies={"refund-policy", "vip-refund"})
    )

    decision = _decision(t.trace, "refund-policy")
    assert decision["action"] == "dropped"
    assert decision["reason"] == "overridden by vip-refund"
    assert t.trace["resolution"]["active"] == ["vip-refund"]
    prompt = t.composition_prompt()
    assert "Offer an immediate full refund" in prompt
    assert "Explain the standard refund policy" not in prompt


async def test_a_higher_priority_target_wins_the_override() -> None:
    refund = g("refund-policy", "The customer asks for a refund", "Explain the standard refund policy", priority=5)
    snap = snapshot(guidelines=[refund, VIP_REFUND], relationships=[rel("overrides", "vip-refund", "refund-policy")])

    t = await turn(snap, conversation("refund please"), llm=ScriptedLLM(applies={"refund-policy", "vip-refund"}))

    assert _decision(t.trace, "vip-refund")["reason"] == "overridden by refund-policy (higher priority)"
    assert t.trace["resolution"]["active"] == ["refund-policy"]


async def test_override_chains_resolve_from_the_top() -> None:
    a, b, c = g("a", "cond a", "do a"), g("b", "cond b", "do b"), g("c", "cond c", "do c")
    index = index_build(
        snapshot(guidelines=[a, b, c], relationships=[rel("overrides", "b", "c"), rel("overrides", "a", "b")])
    )

    result = resolve(index, matched=["a", "b", "c"], journeys={})

    # b is dropped by a, so it no longer overrides c.
    assert set(result.active) == {"a", "c"}
    assert [(d.guideline, d.reason) for d in result.decisions] == [("b", "overridden by a")]


async def test_a_tag_override_over_large_tag_groups_drops_only_the_matched_targets_by_the_first_source() -> None:
    vip = [g(f"vip-{i}", f"VIP case {i}", f"VIP answer {i}", tags=("vip",)) for i in range(400)]
    standard = [
        g(f"standard-{i}", f"Standard case {i}", f"Standard answer {i}", tags=("standard",)) for i in range(400)
    ]
    greet = g("greet", "The customer says hello", "Greet them")
    index = index_build(
        snapshot(
            guidelines=[*vip, *standard, greet],
            relationships=[rel("overrides", "vip", "standard", source_type="tag", target_type="tag")],
        )
    )

    result = resolve(index, matched=["standard-399", "vip-250", "greet", "standard-1", "vip-3"], journeys={})

    assert set(result.active) == {"vip-250", "greet", "vip-3"}
    # Pairs are taken in tag-member order, so the earliest VIP guideline is the one named in both reasons.
    assert [(d.guideline, d.action, d.kind, d.reason, d.by) for d in result.decisions] == [
        ("standard-1", "dropped", "overrides", "overridden by vip-3", "vip-3"),
        ("standard-399", "dropped", "overrides", "overridden by vip-3", "vip-3"),
    ]


async def test_a_dependency_on_an_unmatched_observation_drops_the_dependent() -> None:
    is_member = g("is-member", "The customer says they are a loyalty member")
    lounge = g("lounge-offer", "The customer asks about lounge access", "Offer free lounge access")
    snap = snapshot(guidelines=[is_member, lounge], relationships=[rel("depends_on", "lounge-offer", "is-member")])

    t = await turn(snap, conversation("Can I use the lounge?"), llm=ScriptedLLM(applies={"lounge-offer"}))

    decision = _decision(t.trace, "lounge-offer")
    assert decision["action"] == "dropped"
    assert decision["reason"] == "unmet dependency on is-member"
    assert "Offer free lounge access" not in t.composition_prompt()


async def test_a_met_dependency_keeps_the_dependent() -> None:
    is_member = g("is-member", "The customer says they are a loyalty member")
    lounge = g("lounge-offer", "The customer asks about lounge access", "Offer free lounge access")
    snap = snapshot(guidelines=[is_member, lounge], relationships=[rel("depends_on", "lounge-offer", "is-member")])

    t = await turn(
        snap,
        conversation("I'm a member, can I use the lounge?"),
        llm=ScriptedLLM(applies={"lounge-offer", "is-member"}),
    )

    assert t.trace["resolution"]["decisions"] == []
    assert "Offer free lounge access" in t.composition_prompt()


async def test_dependency_drops_cascade() -> None:
    base, middle, top = g("base", "obs base"), g("middle", "cond m", "do m"), g("top", "cond t", "do t")
    index = index_build(
        snapshot(
            guidelines=[base, middle, top],
            relationships=[rel("depends_on", "middle", "base"), rel("depends_on", "top", "middle")],
        )
    )

    result = resolve(index, matched=["middle", "top"], journeys={})

    assert result.active == {}
    assert [d.reason for d in result.decisions] == ["unmet dependency on base", "unmet dependency on middle"]


async def test_depends_on_any_needs_one_of_its_targets() -> None:
    guidelines = [
        g("card", "pays by card"),
        g("cash", "pays cash"),
        g("receipt", "asks for a receipt", "Send the receipt"),
    ]
    relationships = [rel("depends_on_any", "receipt", "card"), rel("depends_on_any", "receipt", "cash")]
    index = index_build(snapshot(guidelines=guidelines, relationships=relationships))

    kept = resolve(index, matched=["receipt", "cash"], journeys={})
    dropped = resolve(index, matched=["receipt"], journeys={})

    assert "receipt" in kept.active
    assert "receipt" not in dropped.active
    assert dropped.decisions[0].reason == "none of its dependencies matched: card, cash"


async def test_an_entailed_guideline_is_added() -> None:
    cancelled = g("flight-cancelled", "The customer's flight was cancelled", "Apologise for the cancellation")
    voucher = g("offer-voucher", "A voucher should be offered", "Offer a 50 EUR meal voucher")
    snap = snapshot(
        guidelines=[cancelled, voucher], relationships=[rel("entails", "flight-cancelled", "offer-voucher")]
    )

    t = await turn(snap, conversation("My flight got cancelled!"), llm=ScriptedLLM(applies={"flight-cancelled"}))

    decision = _decision(t.trace, "offer-voucher")
    assert decision["action"] == "added"
    assert decision["reason"] == "entailed by flight-cancelled"
    assert "Offer a 50 EUR meal voucher" in t.composition_prompt()


async def test_a_tag_entailment_adds_every_guideline_of_the_tag() -> None:
    source = g("delay", "The flight is delayed", "Apologise")
    tagged = [g("t1", "c1", "a1", tags=("care",)), g("t2", "c2", "a2", tags=("care",))]
    index = index_build(
        snapshot(guidelines=[source, *tagged], relationships=[rel("entails", "delay", "care", target_type="tag")])
    )

    result = resolve(index, matched=["delay"], journeys={})

    assert result.active == {"delay": "matched", "t1": "entailed by delay", "t2": "entailed by delay"}


async def test_disambiguation_makes_the_reply_ask_a_clarifying_question() -> None:
    ambiguous = g("booking-issue", "The customer mentions a problem with their booking")
    change = g(
        "change-flight", "The customer wants to change their flight", "Explain change fees", title="Change the flight"
    )
    cancel = g(
        "cancel-flight", "The customer wants to cancel their flight", "Explain cancellation", title="Cancel the flight"
    )
    snap = snapshot(
        guidelines=[ambiguous, change, cancel],
        relationships=[
            rel("disambiguates", "booking-issue", "change-flight"),
            rel("disambiguates", "booking-issue", "cancel-flight"),
        ],
    )

    t = await turn(
        snap,
        conversation("I have a problem with my booking"),
        llm=ScriptedLLM(applies={"booking-issue", "change-flight", "cancel-flight"}),
    )

    assert {d["guideline"] for d in t.trace["resolution"]["decisions"] if d["kind"] == "disambiguates"} == {
        "change-flight",
        "cancel-flight",
    }
    assert t.trace["resolution"]["clarification"] == {
        "source": "booking-issue",
        "options": ["change-flight", "cancel-flight"],
    }
    prompt = t.composition_prompt()
    assert "Ask one short clarifying question" in prompt
    assert "Change the flight" in prompt and "Cancel the flight" in prompt
    assert "Explain change fees" not in prompt


async def test_one_matching_target_needs_no_clarification() -> None:
    ambiguous = g("booking-issue", "The customer mentions a problem with their booking")
    change = g("change-flight", "The customer wants to change their flight", "Explain change fees")
    cancel = g("cancel-flight", "The customer wants to cancel their flight", "Explain cancellation")
    index = index_build(
        snapshot(
            guidelines=[ambiguous, change, cancel],
            relationships=[
                rel("disambiguates", "booking-issue", "change-flight"),
                rel("disambiguates", "booking-issue", "cancel-flight"),
            ],
        )
    )

    result = resolve(index, matched=["booking-issue", "change-flight"], journeys={})

    assert result.clarification is None
    assert "change-flight" in result.active


async def test_a_journey_dependency_is_met_only_while_the_journey_is_active() -> None:
    step_tip = g("seat-tip", "The customer asks about seats", "Mention seat maps")
    index = index_build(
        snapshot(
            guidelines=[step_tip], relationships=[rel("depends_on", "seat-tip", "rebooking", target_type="journey")]
        )
    )

    assert "seat-tip" in resolve(index, matched=["seat-tip"], journeys={"rebooking": "ask"}).active
    assert (
        resolve(index, matched=["seat-tip"], journeys={}).decisions[0].reason == "unmet dependency on journey rebooking"
    )
