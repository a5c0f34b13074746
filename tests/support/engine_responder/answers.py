"""`engine_reply`: a deterministic, plausible answer to any engine prompt, by purpose, valid against the schemas
in behavior/engine/schemas.py (composition answers text). Word overlap with the latest customer message decides."""

from __future__ import annotations

import re
from typing import Any

from behavior.evaluations.simulation import JUDGE_PURPOSE, SIMULATION_PURPOSE
from tests.support.engine_responder.evaluation import judge, simulated_customer
from tests.support.engine_responder.prompt import Item, PromptView, result_words
from tests.support.engine_responder.text import (
    argument_value,
    as_reply_sentence,
    condition_holds,
    content_words,
    given,
    overlap,
)

_EXIT = re.compile(r"\b(never ?mind|forget it|no longer|not anymore|stop this)\b", re.IGNORECASE)
_ASK_FOR = re.compile(r"you need the customer's (.+?)(?: \(|: ask)")
_CLARIFY = re.compile(r"which of these do they mean: (.+?)\.?$")
_AMOUNT = re.compile(r"\b\d+(?:[.,]\d+)? ?(?:EUR|USD|GBP)\b|[€$£] ?\d+(?:[.,]\d+)?")


def engine_reply(
    *, purpose: str, messages: list[dict[str, Any]], schema: dict[str, Any] | None
) -> dict[str, Any] | str:
    """The answer to one engine call: a dict for structured purposes, text for "composition"."""
    if purpose == SIMULATION_PURPOSE:
        return simulated_customer(messages)
    if purpose == JUDGE_PURPOSE:
        return judge(messages)
    view = PromptView.of(messages)
    if purpose in ("matching", "reevaluation"):
        return {"verdicts": _verdicts(view)}
    if purpose == "journey":
        return _journey_step(view)
    if purpose == "canned_selection":
        return _canned_choice(view, _reply_text(view))
    if purpose == "single_pass":
        verdicts = _verdicts(view)
        applied = [v["id"] for v in verdicts if v["applies"]]
        items = view.items()
        if "choice" in ((schema or {}).get("properties") or {}):
            choice = _canned_choice(view, _reply_text(view, only=applied), only=applied)
            return {"verdicts": verdicts, **{k: choice[k] for k in ("draft", "choice", "fields", "followed")}}
        followed = [key for key in applied if items[key].action]
        return {"verdicts": verdicts, "reply": _reply_text(view, only=applied), "followed": followed}
    if purpose == "analysis":
        items = view.items()
        return {
            "items": [
                {
                    "id": key,
                    "rationale": f"The reply carries out: {_snippet(items[key].action if key in items else key)}",
                    "applied": True,
                }
                for key in view.marker("IDS")
            ]
        }
    if purpose == "moderation":
        return {
            "rationale": "An ordinary customer-service message: nothing abusive or manipulative.",
            "flagged": False,
            "categories": [],
        }
    if purpose == "preamble":
        return {"message": "Thanks, let me look into that for you."}
    if purpose == "composition":
        return _reply_text(view)
    raise ValueError(f"no heuristic answer for purpose {purpose!r}")


def _snippet(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _facts(view: PromptView) -> str:
    message = view.last_customer
    return (
        f'The customer wrote: "{_snippet(message, 160)}".' if message else "The customer has not written anything yet."
    )


# ---------------------------------------------------------------- matching


def _verdicts(view: PromptView) -> list[dict[str, Any]]:
    items, tools, message = view.items(), view.tool_parameters(), view.last_customer
    verdicts = []
    for key in view.marker("IDS"):
        item = items.get(key)
        holds, shared = condition_holds(item.condition, message) if item else (False, set())
        if item is None:
            rationale = "This id is not described in the prompt, so it cannot be judged to apply."
        elif holds:
            rationale = f'The message shares "{", ".join(sorted(shared))}" with the condition "{_snippet(item.condition)}", so it holds.'
        else:
            common = f' (only "{", ".join(sorted(shared))}" in common)' if shared else ""
            rationale = f'The message does not speak to "{_snippet(item.condition)}"{common}, so it does not hold.'
        calls = _proposals(item.tools, tools, view.customer_lines) if holds and item else []
        verdicts.append(
            {"id": key, "facts": _facts(view), "rationale": rationale, "applies": holds, "tool_calls": calls}
        )
    return verdicts


def _call(tool: str, parameters: list[tuple[str, str, bool]], texts: list[str]) -> tuple[dict[str, Any], bool]:
    arguments = []
    complete = True
    for name, kind, required in parameters:
        value = argument_value(name, kind, texts)
        if value is not None:
            arguments.append({"name": name, "value": value})
        elif required:
            complete = False
    return {"tool": tool, "arguments": arguments}, complete


def _proposals(
    names: tuple[str, ...] | list[str], tools: dict[str, list[tuple[str, str, bool]]], texts: list[str]
) -> list[dict[str, Any]]:
    """The calls whose required arguments the customer gave; else the first tool with what there is (the
    engine then asks the customer for the rest)."""
    calls = [_call(name, tools[name], texts) for name in names if name in tools]
    complete = [call for call, done in calls if done]
    return complete or [call for call, _ in calls[:1]]


# ---------------------------------------------------------------- journeys


def _transition_score(condition: str, evidence: str, message: str) -> tuple[float, set[str]]:
    if not condition:
        return 1.0, set()
    wanted = content_words(condition)
    shared, _ = overlap(condition, evidence)
    shared = (shared | given(condition, message)) & wanted
    return (len(shared) / len(wanted) if wanted else 0.0), shared


def _journey_step(view: PromptView) -> dict[str, Any]:
    current = (view.marker("CURRENT STATE") or [""])[0]
    states, transitions, tools = view.states(), view.transitions(), view.tool_parameters()
    message = view.last_customer
    results = view.tool_results()
    evidence = " ".join([message, *(result_words(data) for _, data in results)])
    kind, tool, _ = states.get(current, ("chat", "", ""))

    def step(move: str, target: str, rationale: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "facts": _facts(view),
            "rationale": rationale,
            "move": move,
            "target_state": target,
            "tool_calls": calls,
        }

    def best(source: str) -> tuple[str, str, float, set[str]]:
        scored = [
            (target, cond, *_transition_score(cond, evidence, message))
            for s, target, cond in transitions
            if s == source
        ]
        return max(scored, key=lambda s: s[2], default=("", "", 0.0, set()))

    def through_forks(target: str) -> str:
        for _ in range(len(states)):
            if states.get(target, ("",))[0] != "fork":
                break
            target = best(target)[0] or target
        return target

    def calls_for(target: str) -> list[dict[str, Any]]:
        target_kind, target_tool, _ = states.get(target, ("chat", "", ""))
        if target_kind == "tool" and target_tool in tools:
            return [_call(target_tool, tools[target_tool], view.customer_lines)[0]]
        return []

    if _EXIT.search(message):
        return step("exit", "", "The customer no longer wants to go on with this procedure.", [])
    if kind == "tool" and not any(name == tool for name, _ in results):
        return step("stay", current, f"The {tool} step has not run yet: it needs its arguments.", calls_for(current))
    target, condition, score, shared = best(current)
    if target and (score >= 0.5 or (kind in ("tool", "fork") and score > 0) or not condition):
        target = through_forks(target)
        why = f'"{_snippet(condition)}" holds ({", ".join(sorted(shared))})' if condition else "the step is done"
        return step("advance", target, f"Moving on to {target}: {why}.", calls_for(target))
    if kind == "fork" and target:
        target = through_forks(target)
        return step(
            "advance", target, f"Nothing points elsewhere, so the first branch ({target}) applies.", calls_for(target)
        )
    return step(
        "stay", current, f"The current step ({current}) is not finished: no transition condition holds yet.", []
    )


# ---------------------------------------------------------------- replies


def _reply_text(view: PromptView, *, only: list[str] | None = None) -> str:
    """Two or three sentences: an opening, a question the insights call for, the actions to carry out."""
    first_name, greeted = view.customer_name.split(" ")[0], "greet" in content_words(view.last_customer)
    opening = (f"Hello {first_name}!" if greeted else f"Thanks, {first_name}.") if first_name else "Thank you."
    body: list[str] = []
    insights = view.section("INSIGHTS")
    asked = [m.group(1) for i in insights if (m := _ASK_FOR.search(i))]
    if asked:
        body.append(f"Could you give me your {' and '.join(dict.fromkeys(asked))}?")
    for insight in insights:
        if (options := _CLARIFY.search(insight)) is not None:
            body.append(f"Do you mean {' or '.join(o.strip() for o in options.group(1).split('; '))}?")
        elif "could not complete" in insight:
            body.append("I could not complete that step right now, sorry.")
    items = [item for item in view.items().values() if item.action and (only is None or item.key in only)]
    actions = view.step_actions() + [i.action for i in items if not i.action.lower().startswith("greet")]
    body += [as_reply_sentence(action) for action in actions]
    for tool, data in view.tool_results()[:1]:
        body.append(f"I checked {tool.replace('_', ' ')}: {_snippet(_result_summary(data), 140)}.")
    if not body:
        body.append("How can I help you with your trip today?" if greeted else "Let me look into that for you.")
    return " ".join([opening, *dict.fromkeys(s for s in body if s)][:3])


def _result_summary(data: Any) -> str:
    if isinstance(data, dict):
        pairs = [f"{k.replace('_', ' ')} {v}" for k, v in data.items() if isinstance(v, str | int | float)]
        return ", ".join(pairs[:6]) or "done"
    return str(data)


def _canned_choice(view: PromptView, draft: str, *, only: list[str] | None = None) -> dict[str, Any]:
    """The approved response sharing the most words (two at least) with the message and what the reply must do."""
    canned, items = view.canned(), [i for i in view.items().values() if only is None or i.key in only]
    plan = " ".join([view.last_customer, *(i.action for i in items), *view.step_actions()])
    scored = [
        (len(overlap(template, plan)[0]), key)
        for key, (template, _) in canned.items()
        if key in view.marker("CANNED IDS")
    ]
    score, choice = max(scored, key=lambda s: s[0], default=(0, "none"))
    if score < 2:
        return {
            "draft": draft,
            "rationale": "No approved response fits this reply.",
            "choice": "none",
            "fields": [],
            "followed": [],
        }
    template, provided = canned[choice]
    fields = []
    for field_name in provided:
        value = argument_value(field_name, "str", view.customer_lines)
        if value is None and any(w in field_name for w in ("fee", "price", "cost", "amount")):
            value = next(iter(_AMOUNT.findall(plan)), None)
        if value is not None:
            fields.append({"name": field_name, "value": value})
    followed = [
        key for key in view.marker("IDS") if overlap(template, view.items().get(key, Item(key, "", "")).action)[0]
    ]
    return {
        "draft": draft,
        "rationale": f"The approved response {choice} says what the draft says.",
        "choice": choice,
        "fields": fields,
        "followed": followed,
    }
