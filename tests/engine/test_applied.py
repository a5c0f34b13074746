"""Applied-once tracking: an applied guideline is not repeated, and comes back when its condition recurs."""

from __future__ import annotations

from behavior.engine.types import AppliedGuideline, EngineConfig, SessionState
from tests.engine.builders import conversation, g, snapshot, turn, with_reply
from tests.engine.fakes import LLMCall, ScriptedLLM

GREET = g("greet-discount", "The customer asks about discounts", "Mention the 10% student discount")
OTHER = g("baggage", "The customer asks about baggage", "Explain the baggage allowance")


def _applies_unless_already_applied(recurring_offsets: set[int]):
    """Like a model: a guideline marked "applied before #N" holds only if the customer raised it again
    after #N (here: at one of `recurring_offsets`)."""

    def predicate(key: str, request) -> bool:
        text = LLMCall(request=request, schema=None).text
        line = next(line for line in text.splitlines() if line.startswith(f"- [{key}]"))
        last_customer = max(
            int(row.split()[0][1:]) for row in text.splitlines() if row.startswith("#") and " customer: " in row
        )
        if "applied before #" in line:
            return last_customer in recurring_offsets
        return key == "greet-discount"

    return predicate


async def test_an_applied_guideline_is_not_repeated_and_is_reapplied_when_its_condition_recurs() -> None:
    snap = snapshot(guidelines=[GREET, OTHER])
    llm = ScriptedLLM(applies=_applies_unless_already_applied(recurring_offsets={4}))

    first = await turn(snap, conversation("Do you have discounts?"), llm=llm)
    assert first.result.state.applied == (AppliedGuideline(key="greet-discount", offset=0),)
    assert "Mention the 10% student discount" in first.composition_prompt()

    second_interaction = with_reply(conversation("Do you have discounts?"), first.result, "And what about my bags?")
    second = await turn(snap, second_interaction, llm=ScriptedLLM(applies=llm.applies), state=first.result.state)
    matching = second.llm.calls[0]
    assert (
        "- [greet-discount] WHEN The customer asks about discounts THEN Mention the 10% student discount | applied before #0"
        in matching.text
    )
    verdict = next(v for v in second.trace["matching"]["verdicts"] if v["key"] == "greet-discount")
    assert verdict["applies"] is False and verdict["previously_applied"] is True
    assert "greet-discount" not in second.trace["resolution"]["active"]
    assert second.result.state.applied == (AppliedGuideline(key="greet-discount", offset=0),)

    third_interaction = with_reply(second_interaction, second.result, "Actually, is there any other discount?")
    third = await turn(snap, third_interaction, llm=ScriptedLLM(applies=llm.applies), state=second.result.state)
    assert "greet-discount" in third.trace["resolution"]["active"]
    assert third.result.state.applied == (AppliedGuideline(key="greet-discount", offset=4),)


async def test_a_guideline_the_reply_did_not_carry_out_is_not_recorded() -> None:
    snap = snapshot(guidelines=[GREET, OTHER])
    llm = ScriptedLLM(applies={"greet-discount", "baggage"}, not_applied={"baggage"})
    config = EngineConfig(single_pass_max_candidates=0)  # two-pass: the analysis call decides

    t = await turn(snap, conversation("discounts and bags?"), llm=llm, config=config)

    assert [c.purpose for c in llm.calls] == ["matching", "composition", "analysis"]
    assert t.trace["analysis"] == {"method": "llm", "applied": ["greet-discount"], "not_applied": ["baggage"]}
    assert [a.key for a in t.result.state.applied] == ["greet-discount"]


async def test_an_untracked_guideline_is_never_recorded_and_never_marked() -> None:
    untracked = g("safety", "The customer mentions safety", "Reassure about safety", track=False)
    snap = snapshot(guidelines=[untracked])
    state = SessionState(applied=(AppliedGuideline(key="safety", offset=0),))

    t = await turn(
        snap, conversation("is it safe?", "yes", "really safe?"), llm=ScriptedLLM(applies={"safety"}), state=state
    )

    line = next(line for line in t.llm.calls[0].text.splitlines() if line.startswith("- [safety]"))
    assert "applied before" not in line
    assert t.trace["analysis"]["method"] == "skipped"
    assert "safety" not in [a.key for a in t.result.state.applied]


async def test_a_continuous_guideline_is_judged_on_whether_it_still_holds() -> None:
    tone = g("angry-tone", "The customer is angry", "Stay calm and apologise", continuous=True)
    snap = snapshot(guidelines=[tone])
    state = SessionState(applied=(AppliedGuideline(key="angry-tone", offset=0),))

    t = await turn(
        snap,
        conversation("this is terrible", "sorry", "still terrible!"),
        llm=ScriptedLLM(applies={"angry-tone"}),
        state=state,
    )

    line = next(line for line in t.llm.calls[0].text.splitlines() if line.startswith("- [angry-tone]"))
    assert line.endswith("| continuous")
    assert "angry-tone" in t.trace["resolution"]["active"]
    assert t.result.state.applied == (AppliedGuideline(key="angry-tone", offset=2),)
