"""Every assertion kind, passing and failing, and the cause each failure gives in words (from a turn's trace)."""

from __future__ import annotations

from typing import Any

import pytest

from behavior.evaluations.assertions import Context, assertion_check, assertion_label
from behavior.evaluations.format import assertion_parse
from behavior.evaluations.observe import document_inventory, turn_observation

INVENTORY = document_inventory(
    {
        "guidelines": [
            {"key": "refund-policy", "condition": "The customer asks for a refund"},
            {"key": "vip-refund", "condition": "A VIP asks for a refund"},
            {"key": "greet", "condition": "The customer says hello"},
            {"key": "old-rule", "condition": "The customer asks about meals", "enabled": False},
        ],
        "journeys": [
            {
                "key": "rebooking",
                "triggers": ["wants-rebooking"],
                "states": [{"key": "ask-booking"}, {"key": "lookup"}, {"key": "done"}],
                "transitions": [{"source": "ask-booking", "target": "lookup"}, {"source": "lookup", "target": "done"}],
            }
        ],
        "canned_responses": [{"key": "greeting"}, {"key": "refund-rules"}],
        "tools": [{"name": "lookup_booking"}],
    }
)


def trace(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "turn": {"outcome": "replied", "llm_calls": 2},
        "matching": {"verdicts": []},
        "resolution": {"decisions": [], "active": []},
        "journeys": {"before": {}, "after": {}, "moves": []},
        "tools": {"calls": [], "insights": []},
        "composition": {"mode": "fluid"},
        "tokens": {"prompt": 900, "completion": 100},
        "timings": {"wall_ms": 1200.0},
        "llm_calls": [{"model": "gpt-4o-mini", "prompt_tokens": 900, "completion_tokens": 100}],
        "handoff": None,
    }
    base.update(parts)
    return base


def observed(reply: str = "Here is what I found.", index: int = 0, **parts: Any) -> dict[str, Any]:
    events = [{"kind": "message", "source": "agent", "data": {"text": reply}, "offset": 3}]
    return turn_observation(
        index=index,
        customer_text="I want my money back",
        customer_offset=1,
        turn_id=10 + index,
        status="done",
        trace=trace(**parts),
        events=events,
    )


def check(assertion: dict[str, Any], *turns: dict[str, Any], judgements: Any = None, simulation: Any = None) -> Any:
    parsed = assertion_parse(assertion)
    context = Context(
        turns=list(turns),
        conversation=len(turns) > 1,
        inventory=INVENTORY,
        judgements=judgements or {},
        simulation=simulation,
    )
    return assertion_check(parsed, context)


def matched_refund() -> dict[str, Any]:
    return observed(
        matching={"verdicts": [{"key": "refund-policy", "applies": True, "rationale": "They ask for money back"}]},
        resolution={"decisions": [], "active": ["refund-policy"]},
    )


# ---------------------------------------------------------------- guidelines


def test_guideline_matched_passes_when_the_guideline_reached_the_reply() -> None:
    result = check({"type": "guideline_matched", "guideline": "refund-policy"}, matched_refund())
    assert result.passed
    assert "They ask for money back" in result.cause


def test_guideline_matched_fails_with_the_models_judgement_and_rationale() -> None:
    turn = observed(matching={"verdicts": [{"key": "refund-policy", "applies": False, "rationale": "No refund asked"}]})
    result = check({"type": "guideline_matched", "guideline": "refund-policy"}, turn)
    assert not result.passed
    assert result.cause == (
        "guideline refund-policy not matched: the model judged 'The customer asks for a refund' false — "
        "rationale: No refund asked"
    )
    assert result.turn == 0


def test_guideline_matched_fails_naming_the_relationship_that_dropped_it() -> None:
    turn = observed(
        matching={"verdicts": [{"key": "refund-policy", "applies": True, "rationale": "yes"}]},
        resolution={
            "decisions": [
                {
                    "guideline": "refund-policy",
                    "action": "dropped",
                    "kind": "overrides",
                    "reason": "overridden by vip-refund",
                    "by": "vip-refund",
                }
            ],
            "active": ["vip-refund"],
        },
    )
    result = check({"type": "guideline_matched", "guideline": "refund-policy"}, turn)
    assert not result.passed
    assert result.cause == "guideline refund-policy dropped: overridden by vip-refund"


def test_guideline_matched_fails_when_retrieval_never_offered_it() -> None:
    result = check({"type": "guideline_matched", "guideline": "greet"}, observed())
    assert not result.passed
    assert "not among the candidates" in result.cause


def test_guideline_matched_fails_saying_the_guideline_is_disabled() -> None:
    result = check({"type": "guideline_matched", "guideline": "old-rule"}, observed())
    assert result.cause == "guideline old-rule not matched: it is disabled in the behavior this run used"


def test_guideline_not_matched_passes_and_fails_with_the_rationale() -> None:
    assert check({"type": "guideline_not_matched", "guideline": "greet"}, matched_refund()).passed
    result = check({"type": "guideline_not_matched", "guideline": "refund-policy"}, matched_refund())
    assert not result.passed
    assert "judged 'The customer asks for a refund' true — rationale: They ask for money back" in result.cause


def test_guideline_dropped_checks_the_reason_kind() -> None:
    dropped = observed(
        resolution={
            "decisions": [
                {"guideline": "refund-policy", "action": "dropped", "kind": "overrides", "reason": "overridden by vip"}
            ],
            "active": [],
        }
    )
    assert check({"type": "guideline_dropped", "guideline": "refund-policy"}, dropped).passed
    assert check(
        {"type": "guideline_dropped", "guideline": "refund-policy", "reason_kind": "overrides"}, dropped
    ).passed
    wrong_kind = check(
        {"type": "guideline_dropped", "guideline": "refund-policy", "reason_kind": "depends_on"}, dropped
    )
    assert not wrong_kind.passed
    assert "for another reason (overrides: overridden by vip), not depends_on" in wrong_kind.cause
    still_active = check({"type": "guideline_dropped", "guideline": "refund-policy"}, matched_refund())
    assert not still_active.passed
    assert "not dropped: it matched and stayed active" in still_active.cause


# ---------------------------------------------------------------- tools


def lookup(status: str = "ok", **call: Any) -> dict[str, Any]:
    entry = {"tool": "lookup_booking", "source": "refund-policy", "arguments": {}, "status": status}
    entry.update(call)
    return observed(tools={"calls": [entry], "insights": []}, resolution={"decisions": [], "active": ["refund-policy"]})


def test_tool_called_passes_with_matching_arguments_of_every_matcher_kind() -> None:
    turn = lookup(arguments={"booking_reference": "ABC123", "note": "late flight", "passengers": 2})
    assertion = {
        "type": "tool_called",
        "tool": "lookup_booking",
        "arguments": {
            "booking_reference": "abc123",  # short form: equals, compared as the model would mean it
            "note": {"op": "contains", "value": "LATE"},
            "passengers": {"op": "regex", "value": "^[0-9]$"},
        },
    }
    assert check(assertion, turn).passed
    assert check({**assertion, "arguments": {"note": {"op": "any"}}}, turn).passed


def test_tool_called_fails_naming_the_argument_that_differs() -> None:
    turn = lookup(arguments={"booking_reference": "XYZ999"})
    result = check(
        {"type": "tool_called", "tool": "lookup_booking", "arguments": {"booking_reference": "ABC123"}}, turn
    )
    assert not result.passed
    assert result.cause == "tool lookup_booking called with booking_reference=\"XYZ999\" (expected equals 'ABC123')"


def test_tool_called_fails_naming_the_missing_argument() -> None:
    turn = lookup(status="invalid", missing=["booking_ref"])
    result = check({"type": "tool_called", "tool": "lookup_booking"}, turn)
    assert not result.passed
    assert result.cause == "tool lookup_booking not called: argument booking_ref missing"


def test_tool_called_fails_when_nothing_proposed_it() -> None:
    result = check({"type": "tool_called", "tool": "lookup_booking"}, matched_refund())
    assert not result.passed
    assert "no active guideline or journey state proposed it (active guidelines: refund-policy)" in result.cause


def test_tool_not_called_passes_and_fails_with_the_call() -> None:
    assert check({"type": "tool_not_called", "tool": "lookup_booking"}, matched_refund()).passed
    assert check({"type": "tool_not_called", "tool": "lookup_booking"}, lookup(status="invalid")).passed
    result = check(
        {"type": "tool_not_called", "tool": "lookup_booking"}, lookup(arguments={"booking_reference": "ABC123"})
    )
    assert not result.passed
    assert 'called for refund-policy with {"booking_reference": "ABC123"}' in result.cause


# ---------------------------------------------------------------- journeys


def in_journey(before: dict[str, str], after: dict[str, str], *moves: dict[str, Any]) -> dict[str, Any]:
    return observed(journeys={"before": before, "after": after, "moves": list(moves)})


def move(kind: str, source: str | None, target: str | None, reason: str = "") -> dict[str, Any]:
    return {"journey": "rebooking", "move": kind, "from_state": source, "to_state": target, "reason": reason}


def test_journey_entered_passes_and_fails_naming_the_trigger() -> None:
    entered = in_journey({}, {"rebooking": "ask-booking"}, move("enter", None, "ask-booking"))
    assert check({"type": "journey_entered", "journey": "rebooking"}, entered).passed
    result = check({"type": "journey_entered", "journey": "rebooking"}, observed())
    assert not result.passed
    assert result.cause.startswith("journey rebooking not entered: its trigger was not matched (guideline wants-")


def test_journey_in_state_fails_saying_where_it_stayed() -> None:
    stayed = in_journey(
        {"rebooking": "ask-booking"},
        {"rebooking": "ask-booking"},
        move("stay", "ask-booking", "ask-booking", "no booking reference yet"),
    )
    assert check({"type": "journey_in_state", "journey": "rebooking", "state": "ask-booking"}, stayed).passed
    result = check({"type": "journey_in_state", "journey": "rebooking", "state": "lookup"}, stayed)
    assert not result.passed
    assert result.cause == (
        "journey rebooking stayed at ask-booking, not lookup; the step selection said: no booking reference yet"
    )


def test_journey_completed_and_exited() -> None:
    completed = in_journey(
        {"rebooking": "lookup"}, {}, move("advance", "lookup", "done"), move("complete", "done", "done")
    )
    exited = in_journey({"rebooking": "lookup"}, {}, move("exit", "lookup", None))
    waiting = in_journey(
        {"rebooking": "ask-booking"}, {"rebooking": "lookup"}, move("advance", "ask-booking", "lookup")
    )
    assert check({"type": "journey_completed", "journey": "rebooking"}, completed).passed
    assert check({"type": "journey_exited", "journey": "rebooking"}, exited).passed
    not_done = check({"type": "journey_completed", "journey": "rebooking"}, waiting)
    assert not not_done.passed
    assert not_done.cause == "journey rebooking not completed: it stopped at lookup"
    exited_early = check({"type": "journey_completed", "journey": "rebooking"}, exited)
    assert exited_early.cause == "journey rebooking was exited before completing"
    not_exited = check({"type": "journey_exited", "journey": "rebooking"}, waiting)
    assert not_exited.cause == "journey rebooking not exited: it is still at lookup"


# ---------------------------------------------------------------- handoff, canned, replies


def test_handoff_requested_and_no_handoff() -> None:
    handed = observed(handoff={"tool": "handoff", "source": "human-handoff", "reason": "customer asked"})
    assert check({"type": "handoff_requested"}, handed).passed
    assert check({"type": "no_handoff"}, observed()).passed
    missing = check({"type": "handoff_requested"}, observed())
    assert not missing.passed
    assert missing.cause.startswith("no handoff:")
    unwanted = check({"type": "no_handoff"}, handed)
    assert not unwanted.passed
    assert unwanted.cause == "handoff requested by human-handoff"


def test_canned_used_passes_and_explains_each_way_it_fails() -> None:
    strict = {"mode": "strict", "canned_candidates": ["greeting", "refund-rules"], "canned_chosen": "greeting"}
    assert check({"type": "canned_used", "canned": "greeting"}, observed(composition=strict)).passed
    other = check({"type": "canned_used", "canned": "refund-rules"}, observed(composition=strict))
    assert other.cause == "canned response refund-rules not used: greeting was chosen"
    fluid = check({"type": "canned_used", "canned": "greeting"}, observed())
    assert fluid.cause == "canned response greeting not used: the reply was composed in fluid mode"
    not_candidate = check(
        {"type": "canned_used", "canned": "refund-rules"},
        observed(composition={"mode": "strict", "canned_candidates": ["greeting"], "canned_chosen": None}),
    )
    assert not_candidate.cause == "canned response refund-rules not used: it was not a candidate (candidates: greeting)"


def test_reply_contains_not_contains_and_matches() -> None:
    turn = observed("Your refund of 40 EUR is on its way.")
    assert check({"type": "reply_contains", "text": "REFUND"}, turn).passed
    absent = check({"type": "reply_contains", "text": "voucher"}, turn)
    assert absent.cause == "the reply does not contain 'voucher': it said \"Your refund of 40 EUR is on its way.\""
    assert check({"type": "reply_not_contains", "text": "voucher"}, turn).passed
    present = check({"type": "reply_not_contains", "text": "refund"}, turn)
    assert not present.passed
    assert "contains 'refund'" in present.cause
    assert check({"type": "reply_matches", "pattern": r"\d+ EUR"}, turn).passed
    assert not check({"type": "reply_matches", "pattern": r"^Sorry"}, turn).passed


# ---------------------------------------------------------------- judged, goal, budgets


def test_criterion_reads_the_judges_verdict_and_keeps_its_rationale() -> None:
    criterion = "The reply apologises and offers a free rebooking"
    met = check(
        {"type": "criterion", "criterion": criterion},
        observed(),
        judgements={criterion: {"passed": True, "rationale": "It does"}},
    )
    assert met.passed
    assert met.cause == "judged met — rationale: It does"
    unmet = check(
        {"type": "criterion", "criterion": criterion},
        observed(),
        judgements={criterion: {"passed": False, "rationale": "No apology"}},
    )
    assert unmet.cause == "judged not met — rationale: No apology"
    broken = check(
        {"type": "criterion", "criterion": criterion}, observed(), judgements={criterion: {"error": "timeout"}}
    )
    assert not broken.passed
    assert broken.cause == "the criterion could not be judged: timeout"


def test_turns_to_goal_against_the_simulation_outcome() -> None:
    assertion = {"type": "turns_to_goal", "max_turns": 3}
    assert check(assertion, observed(), simulation={"goal_reached": True, "turns_to_goal": 2, "turns": 2}).passed
    late = check(assertion, observed(), simulation={"goal_reached": True, "turns_to_goal": 5, "turns": 5})
    assert late.cause == "goal reached after 5 turns (budget 3)"
    abandoned = check(
        assertion,
        observed(),
        simulation={"goal_reached": False, "abandoned": True, "turns": 4, "rationale": "It loops"},
    )
    assert abandoned.cause == "goal abandoned after 4 turns (the simulated customer: It loops)"


def test_token_and_latency_budgets_name_the_heaviest_turn() -> None:
    first, second = observed(index=0), observed(index=1, tokens={"prompt": 5000, "completion": 200})
    assert check({"type": "tokens_under", "max_tokens": 10_000}, first, second).passed
    over = check({"type": "tokens_under", "max_tokens": 3000}, first, second)
    assert over.cause == ("6200 tokens, over the budget of 3000 (the largest turn, 2, used 5200 in 2 LLM calls)")
    assert over.turn == 1
    assert check({"type": "latency_under", "max_ms": 2000}, first).passed
    slow = check({"type": "latency_under", "max_ms": 1000}, first, second)
    assert slow.cause == "the reply at turn 1 took 1200 ms, over the budget of 1000 ms"


@pytest.mark.parametrize(
    ("assertion", "label"),
    [
        ({"type": "tool_called", "tool": "t", "arguments": {"a": "1"}}, "tool called: t (a equals '1')"),
        ({"type": "journey_in_state", "journey": "j", "state": "s"}, "journey in state: j at s"),
        (
            {"type": "guideline_dropped", "guideline": "g", "reason_kind": "overrides"},
            "guideline dropped: g (overrides)",
        ),
        ({"type": "turns_to_goal", "max_turns": 4}, "goal within 4 turns"),
    ],
)
def test_each_assertion_reads_as_a_short_label(assertion: dict[str, Any], label: str) -> None:
    assert assertion_label(assertion_parse(assertion)) == label


def test_a_failed_turn_is_named_first_in_the_cause() -> None:
    turn = {**observed(), "status": "failed", "turn_error": "No language model is configured: set OPENAI_BASE_URL"}
    result = check({"type": "guideline_matched", "guideline": "refund-policy"}, turn)
    assert not result.passed
    assert result.cause.startswith(
        "the agent's turn failed (No language model is configured: set OPENAI_BASE_URL), so: guideline refund-policy"
    )
