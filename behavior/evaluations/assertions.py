"""Checking one assertion against the turns an attempt observed (behavior/evaluations/observe.py), with the cause of
a failure in words, taken from the trace: the model's rationale, the relationship that dropped a guideline, the
missing tool argument, the journey state it stayed at. Pure Python: no Django, no LLM (criteria arrive judged)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from behavior.evaluations.format import Matcher
from behavior.evaluations.observe import RAN_STATUSES, names

Turn = Mapping[str, Any]
EXCERPT_CHARS = 160


@dataclass(frozen=True)
class Check:
    passed: bool
    cause: str  # a failure's cause, or what held when it passed
    turn: int | None = None  # the turn whose trace explains it


@dataclass(frozen=True)
class Context:
    """What an assertion is checked against: the turns in scope (one, or the whole conversation), the inventory of
    the behavior it ran on, the judge's verdicts by criterion, and the simulation's outcome."""

    turns: Sequence[Turn]
    conversation: bool
    inventory: Mapping[str, Any]
    judgements: Mapping[str, Mapping[str, Any]]
    simulation: Mapping[str, Any] | None = None


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _where(context: Context, turn: Turn) -> str:
    return f" at turn {int(turn.get('index', 0)) + 1}" if context.conversation else ""


def _last(context: Context) -> Turn | None:
    return context.turns[-1] if context.turns else None


# ---------------------------------------------------------------- guidelines


def _condition(context: Context, key: str) -> str:
    return str((context.inventory.get("guidelines") or {}).get(key) or "")


def _why_not_matched(context: Context, key: str, turn: Turn) -> str:
    """Why `key` was not active in `turn`, from the most telling step of its trace."""
    for item in turn.get("dropped") or []:
        if item.get("guideline") == key:
            return f"guideline {key} dropped: {item.get('reason') or item.get('kind')}"
    verdict = (turn.get("verdicts") or {}).get(key)
    condition = _condition(context, key)
    quoted = f" '{excerpt(condition, 120)}'" if condition else ""
    if verdict is not None and not verdict.get("applies"):
        return (
            f"guideline {key} not matched: the model judged{quoted} false — rationale: "
            f"{excerpt(verdict.get('rationale') or 'none given', 300)}"
        )
    if verdict is not None:
        return f"guideline {key} was judged to hold but did not reach the reply"
    if key not in (context.inventory.get("guidelines") or {}):
        return f"guideline {key} does not exist in the behavior this run used"
    if key in (context.inventory.get("disabled_guidelines") or []):
        return f"guideline {key} not matched: it is disabled in the behavior this run used"
    return (
        f"guideline {key} not matched: it was not among the candidates the retrieval kept for this message "
        f"(out of scope, or too far from the conversation)"
    )


def _guideline_matched(assertion: Any, context: Context) -> Check:
    key = assertion.guideline
    for turn in context.turns:
        if key in (turn.get("active") or []):
            rationale = ((turn.get("verdicts") or {}).get(key) or {}).get("rationale") or ""
            how = f" — rationale: {excerpt(rationale, 200)}" if rationale else ""
            return Check(True, f"guideline {key} matched{_where(context, turn)}{how}", turn.get("index"))
    last = _last(context)
    if last is None:
        return Check(False, "no last ran")
    # the most telling last: where it was dropped or judged false
    for candidate in context.turns:
        if any(item.get("guideline") == key for item in candidate.get("dropped") or []):
            last = candidate
            break
    return Check(False, _why_not_matched(context, key, last) + _where(context, last), last.get("index"))


def _guideline_not_matched(assertion: Any, context: Context) -> Check:
    key = assertion.guideline
    for turn in context.turns:
        if key in (turn.get("active") or []):
            verdict = (turn.get("verdicts") or {}).get(key) or {}
            condition = _condition(context, key)
            quoted = f" '{excerpt(condition, 120)}'" if condition else ""
            if key in (turn.get("added") or []) and not verdict.get("applies"):
                why = "it was added by an entailment"
            else:
                why = f"the model judged{quoted} true — rationale: {excerpt(verdict.get('rationale') or 'none', 300)}"
            return Check(False, f"guideline {key} matched{_where(context, turn)}: {why}", turn.get("index"))
    return Check(True, f"guideline {key} was not matched")


def _guideline_dropped(assertion: Any, context: Context) -> Check:
    key, kind = assertion.guideline, assertion.reason_kind
    for turn in context.turns:
        for item in turn.get("dropped") or []:
            if item.get("guideline") != key:
                continue
            if kind and item.get("kind") != kind:
                return Check(
                    False,
                    f"guideline {key} was dropped{_where(context, turn)} for another reason ({item.get('kind')}: "
                    f"{item.get('reason')}), not {kind}",
                    turn.get("index"),
                )
            return Check(True, f"guideline {key} dropped: {item.get('reason')}", turn.get("index"))
    for turn in context.turns:
        if key in (turn.get("active") or []):
            return Check(
                False,
                f"guideline {key} was not dropped: it matched and stayed active{_where(context, turn)} "
                "(no relationship removed it)",
                turn.get("index"),
            )
    last = _last(context)
    cause = _why_not_matched(context, key, last) if last is not None else "no last ran"
    return Check(False, f"guideline {key} was never dropped because it never matched ({cause})", _index(last))


def _index(turn: Turn | None) -> int | None:
    return None if turn is None else turn.get("index")


# ---------------------------------------------------------------- tools


def matcher_holds(matcher: Matcher, value: Any, present: bool) -> bool:
    if not present:
        return False
    if matcher.op == "any":
        return True
    if matcher.op == "equals":
        return _loose(value) == _loose(matcher.value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if matcher.op == "contains":
        return str(matcher.value).casefold() in text.casefold()
    return re.search(str(matcher.value), text) is not None


def _loose(value: Any) -> Any:
    """Arguments arrive as JSON values; compare "2" with 2 and "ABC123" with "abc123 " as the model would mean it."""
    if isinstance(value, str):
        stripped = value.strip()
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return stripped.casefold()
        return parsed.casefold() if isinstance(parsed, str) else parsed
    return value


def _argument_mismatches(assertion: Any, call: Mapping[str, Any]) -> list[str]:
    arguments = call.get("arguments") or {}
    wrong = []
    for name, matcher in assertion.arguments.items():
        present = name in arguments
        if not matcher_holds(matcher, arguments.get(name), present):
            got = json.dumps(arguments.get(name), ensure_ascii=False) if present else "nothing"
            wrong.append(f"{name}={got} (expected {matcher.describe()})")
    return wrong


def _tool_called(assertion: Any, context: Context) -> Check:
    tool = assertion.tool
    closest: tuple[Turn, Mapping[str, Any], list[str]] | None = None
    proposed: tuple[Turn, Mapping[str, Any]] | None = None
    for turn in context.turns:
        for call in turn.get("tools") or []:
            if call.get("tool") != tool:
                continue
            if call.get("status") not in RAN_STATUSES:
                proposed = proposed or (turn, call)
                continue
            wrong = _argument_mismatches(assertion, call)
            if not wrong:
                mocked = " (mocked)" if call.get("mocked") else ""
                return Check(True, f"tool {tool} called{mocked}{_where(context, turn)}", turn.get("index"))
            if closest is None:
                closest = (turn, call, wrong)
    if closest is not None:
        turn, _call, wrong = closest
        return Check(False, f"tool {tool} called with {'; '.join(wrong)}{_where(context, turn)}", turn.get("index"))
    if proposed is not None:
        turn, call = proposed
        if call.get("missing"):
            plural = "s" if len(call["missing"]) > 1 else ""
            why = f"argument{plural} {', '.join(call['missing'])} missing"
        elif call.get("invalid"):
            why = f"invalid argument(s) {', '.join(call['invalid'])}"
        else:
            why = f"the call was {call.get('status') or 'not run'}"
        return Check(False, f"tool {tool} not called: {why}{_where(context, turn)}", turn.get("index"))
    last = _last(context)
    active = names(list(last.get("active") or [])) if last is not None else "none"
    return Check(
        False,
        f"tool {tool} not called: no active guideline or journey state proposed it (active guidelines: {active})",
        _index(last),
    )


def _tool_not_called(assertion: Any, context: Context) -> Check:
    for turn in context.turns:
        for call in turn.get("tools") or []:
            if call.get("tool") == assertion.tool and call.get("status") in RAN_STATUSES:
                source = call.get("source") or "the engine"
                arguments = json.dumps(call.get("arguments") or {}, ensure_ascii=False)
                return Check(
                    False,
                    f"tool {assertion.tool} called{_where(context, turn)} for {source} with {excerpt(arguments, 200)}",
                    turn.get("index"),
                )
    return Check(True, f"tool {assertion.tool} was not called")


# ---------------------------------------------------------------- journeys


def _journey_moves(context: Context, journey: str, move: str) -> Turn | None:
    for turn in context.turns:
        if any(m.get("journey") == journey and m.get("move") == move for m in turn.get("moves") or []):
            return turn
    return None


def _journey_not_entered(context: Context, journey: str) -> str:
    info = (context.inventory.get("journeys") or {}).get(journey)
    if info is None:
        return f"journey {journey} does not exist in the behavior this run used"
    last = _last(context)
    triggers = list(info.get("triggers") or [])
    if triggers and last is not None:
        reasons = [_why_not_matched(context, key, last) for key in triggers[:2]]
        return f"journey {journey} not entered: its trigger was not matched ({'; '.join(reasons)})"
    return f"journey {journey} not entered: its condition was not judged to hold"


def _journey_entered(assertion: Any, context: Context) -> Check:
    turn = _journey_moves(context, assertion.journey, "enter")
    if turn is not None:
        return Check(True, f"journey {assertion.journey} entered{_where(context, turn)}", turn.get("index"))
    for turn in context.turns:  # already in it before the turns in scope
        if assertion.journey in (turn.get("journeys_before") or {}):
            return Check(True, f"journey {assertion.journey} was already active", turn.get("index"))
    return Check(False, _journey_not_entered(context, assertion.journey), _index(_last(context)))


def _journey_in_state(assertion: Any, context: Context) -> Check:
    last = _last(context)
    if last is None:
        return Check(False, "no last ran")
    journey, state = assertion.journey, assertion.state
    after = (last.get("journeys_after") or {}).get(journey)
    if after == state:
        return Check(True, f"journey {journey} is at {state}", last.get("index"))
    if after is None:
        completed = _journey_moves(context, journey, "complete") or _journey_moves(context, journey, "exit")
        if completed is not None:
            return Check(False, f"journey {journey} had already ended, not at {state}", completed.get("index"))
        return Check(False, _journey_not_entered(context, journey), last.get("index"))
    before = (last.get("journeys_before") or {}).get(journey)
    moves = [m for m in last.get("moves") or [] if m.get("journey") == journey]
    if before == after:
        why = f"; the step selection said: {excerpt(moves[-1]['reason'], 200)}" if moves else ""
        return Check(False, f"journey {journey} stayed at {after}, not {state}{why}", last.get("index"))
    path = " → ".join(str(m.get("to")) for m in moves if m.get("to")) or str(after)
    return Check(False, f"journey {journey} went to {path}, not {state}", last.get("index"))


def _journey_completed(assertion: Any, context: Context) -> Check:
    turn = _journey_moves(context, assertion.journey, "complete")
    if turn is not None:
        return Check(True, f"journey {assertion.journey} completed{_where(context, turn)}", turn.get("index"))
    last = _last(context)
    at = (last.get("journeys_after") or {}).get(assertion.journey) if last is not None else None
    if at:
        return Check(False, f"journey {assertion.journey} not completed: it stopped at {at}", _index(last))
    exited = _journey_moves(context, assertion.journey, "exit")
    if exited is not None:
        return Check(False, f"journey {assertion.journey} was exited before completing", exited.get("index"))
    return Check(False, _journey_not_entered(context, assertion.journey), _index(last))


def _journey_exited(assertion: Any, context: Context) -> Check:
    turn = _journey_moves(context, assertion.journey, "exit")
    if turn is not None:
        return Check(True, f"journey {assertion.journey} exited{_where(context, turn)}", turn.get("index"))
    last = _last(context)
    at = (last.get("journeys_after") or {}).get(assertion.journey) if last is not None else None
    if at:
        return Check(False, f"journey {assertion.journey} not exited: it is still at {at}", _index(last))
    return Check(False, f"journey {assertion.journey} was never exited", _index(last))


# ---------------------------------------------------------------- handoff, canned, replies


def _handoff_requested(assertion: Any, context: Context) -> Check:
    for turn in context.turns:
        if turn.get("handoff"):
            detail = turn.get("handoff_detail") or {}
            reason = f": {excerpt(str(detail.get('reason')), 200)}" if detail.get("reason") else ""
            return Check(True, f"handoff requested{_where(context, turn)}{reason}", turn.get("index"))
    last = _last(context)
    return Check(
        False, "no handoff: no guideline with the handoff tool matched and no tool asked for a human", _index(last)
    )


def _no_handoff(assertion: Any, context: Context) -> Check:
    for turn in context.turns:
        if turn.get("handoff"):
            detail = turn.get("handoff_detail") or {}
            by = detail.get("source") or detail.get("tool") or "a tool"
            return Check(False, f"handoff requested{_where(context, turn)} by {by}", turn.get("index"))
    return Check(True, "no handoff")


def _canned_used(assertion: Any, context: Context) -> Check:
    key = assertion.canned
    for turn in context.turns:
        if turn.get("canned") == key:
            return Check(True, f"canned response {key} used{_where(context, turn)}", turn.get("index"))
    last = _last(context)
    if last is None:
        return Check(False, "no last ran")
    if key not in (context.inventory.get("canned") or [key]):
        return Check(False, f"canned response {key} does not exist in the behavior this run used", _index(last))
    mode = last.get("composition_mode") or "fluid"
    if mode not in ("strict", "composited"):
        return Check(False, f"canned response {key} not used: the reply was composed in {mode} mode", _index(last))
    if last.get("canned"):
        return Check(False, f"canned response {key} not used: {last['canned']} was chosen", _index(last))
    if key not in (last.get("canned_candidates") or []):
        candidates = names(list(last.get("canned_candidates") or []))
        return Check(
            False, f"canned response {key} not used: it was not a candidate (candidates: {candidates})", _index(last)
        )
    return Check(False, f"canned response {key} not used: no canned response was chosen", _index(last))


def _reply_contains(assertion: Any, context: Context) -> Check:
    wanted = assertion.text.casefold()
    for turn in context.turns:
        if wanted in str(turn.get("reply") or "").casefold():
            return Check(True, f"the reply{_where(context, turn)} contains {assertion.text!r}", turn.get("index"))
    last = _last(context)
    said = excerpt(str(last.get("reply") or "")) if last is not None else ""
    return Check(False, f'the reply does not contain {assertion.text!r}: it said "{said}"', _index(last))


def _reply_not_contains(assertion: Any, context: Context) -> Check:
    wanted = assertion.text.casefold()
    for turn in context.turns:
        reply = str(turn.get("reply") or "")
        position = reply.casefold().find(wanted)
        if position >= 0:
            around = excerpt(reply[max(0, position - 60) : position + len(wanted) + 60])
            return Check(
                False, f'the reply{_where(context, turn)} contains {assertion.text!r}: "{around}"', turn.get("index")
            )
    return Check(True, f"no reply contains {assertion.text!r}")


def _reply_matches(assertion: Any, context: Context) -> Check:
    pattern = re.compile(assertion.pattern)
    for turn in context.turns:
        if pattern.search(str(turn.get("reply") or "")):
            return Check(True, f"the reply{_where(context, turn)} matches /{assertion.pattern}/", turn.get("index"))
    last = _last(context)
    said = excerpt(str(last.get("reply") or "")) if last is not None else ""
    return Check(False, f'the reply does not match /{assertion.pattern}/: it said "{said}"', _index(last))


# ---------------------------------------------------------------- judged, goal, budgets


def _criterion(assertion: Any, context: Context) -> Check:
    judgement = context.judgements.get(assertion.criterion)
    last = _last(context)
    if judgement is None:
        return Check(False, "the criterion was not judged (the judge model did not answer)", _index(last))
    if judgement.get("error"):
        return Check(False, f"the criterion could not be judged: {judgement['error']}", _index(last))
    rationale = excerpt(str(judgement.get("rationale") or "none given"), 400)
    if judgement.get("passed"):
        return Check(True, f"judged met — rationale: {rationale}", _index(last))
    return Check(False, f"judged not met — rationale: {rationale}", _index(last))


def _turns_to_goal(assertion: Any, context: Context) -> Check:
    simulation = context.simulation or {}
    used = int(simulation.get("turns") or len(context.turns))
    why = excerpt(str(simulation.get("rationale") or ""), 300)
    if not simulation.get("goal_reached"):
        ended = "abandoned" if simulation.get("abandoned") else "not reached"
        return Check(
            False, f"goal {ended} after {used} turns" + (f" (the simulated customer: {why})" if why else ""), None
        )
    reached = int(simulation.get("turns_to_goal") or used)
    if reached > assertion.max_turns:
        return Check(False, f"goal reached after {reached} turns (budget {assertion.max_turns})", None)
    return Check(True, f"goal reached in {reached} turns (budget {assertion.max_turns})", None)


def _tokens_under(assertion: Any, context: Context) -> Check:
    total = sum(int(turn.get("tokens") or 0) for turn in context.turns)
    if total <= assertion.max_tokens:
        return Check(True, f"{total} tokens (budget {assertion.max_tokens})")
    biggest = max(context.turns, key=lambda turn: int(turn.get("tokens") or 0))
    return Check(
        False,
        f"{total} tokens, over the budget of {assertion.max_tokens} (the largest turn, "
        f"{int(biggest.get('index', 0)) + 1}, used {biggest.get('tokens')} in {biggest.get('llm_calls')} LLM calls)",
        biggest.get("index"),
    )


def _latency_under(assertion: Any, context: Context) -> Check:
    if not context.turns:
        return Check(False, "no turn ran")
    slowest = max(context.turns, key=lambda turn: float(turn.get("wall_ms") or 0.0))
    took = float(slowest.get("wall_ms") or 0.0)
    if took <= assertion.max_ms:
        return Check(True, f"slowest reply {took:.0f} ms (budget {assertion.max_ms} ms)", slowest.get("index"))
    return Check(
        False,
        f"the reply{_where(context, slowest)} took {took:.0f} ms, over the budget of {assertion.max_ms} ms",
        slowest.get("index"),
    )


CHECKS = {
    "guideline_matched": _guideline_matched,
    "guideline_not_matched": _guideline_not_matched,
    "guideline_dropped": _guideline_dropped,
    "tool_called": _tool_called,
    "tool_not_called": _tool_not_called,
    "journey_entered": _journey_entered,
    "journey_in_state": _journey_in_state,
    "journey_completed": _journey_completed,
    "journey_exited": _journey_exited,
    "handoff_requested": _handoff_requested,
    "no_handoff": _no_handoff,
    "canned_used": _canned_used,
    "reply_contains": _reply_contains,
    "reply_not_contains": _reply_not_contains,
    "reply_matches": _reply_matches,
    "criterion": _criterion,
    "turns_to_goal": _turns_to_goal,
    "tokens_under": _tokens_under,
    "latency_under": _latency_under,
}


def assertion_check(assertion: Any, context: Context) -> Check:
    """Check one parsed assertion (behavior/evaluations/format.py) in `context`."""
    if not context.turns and assertion.type != "turns_to_goal":
        return Check(False, "no turn ran, so nothing could be checked")
    check = CHECKS[assertion.type](assertion, context)
    failed = next((turn for turn in context.turns if turn.get("status") == "failed"), None)
    if check.passed or failed is None:
        return check
    # What the trace says is moot when the turn never finished: say that first (e.g. no model configured)
    error = excerpt(str(failed.get("turn_error") or "; ".join(failed.get("errors") or []) or "see its trace"), 300)
    where = _where(context, failed)
    return Check(False, f"the agent's turn{where} failed ({error}), so: {check.cause}", failed.get("index"))


def assertion_label(assertion: Any) -> str:
    """The assertion in a few words, as result tables show it."""
    kind = assertion.type
    if kind.startswith("guideline_"):
        extra = f" ({assertion.reason_kind})" if getattr(assertion, "reason_kind", "") else ""
        return f"{kind.replace('guideline_', 'guideline ').replace('_', ' ')}: {assertion.guideline}{extra}"
    if kind == "tool_called":
        arguments = ", ".join(f"{name} {m.describe()}" for name, m in assertion.arguments.items())
        return f"tool called: {assertion.tool}" + (f" ({arguments})" if arguments else "")
    if kind == "tool_not_called":
        return f"tool not called: {assertion.tool}"
    if kind == "journey_in_state":
        return f"journey in state: {assertion.journey} at {assertion.state}"
    if kind.startswith("journey_"):
        return f"{kind.replace('_', ' ')}: {assertion.journey}"
    if kind == "canned_used":
        return f"canned response used: {assertion.canned}"
    if kind in ("reply_contains", "reply_not_contains"):
        return f"{kind.replace('_', ' ')}: {assertion.text!r}"
    if kind == "reply_matches":
        return f"reply matches /{assertion.pattern}/"
    if kind == "criterion":
        return f"criterion: {excerpt(assertion.criterion, 120)}"
    if kind == "turns_to_goal":
        return f"goal within {assertion.max_turns} turns"
    if kind == "tokens_under":
        return f"tokens under {assertion.max_tokens}"
    if kind == "latency_under":
        return f"latency under {assertion.max_ms} ms"
    return kind.replace("_", " ")
