"""What one turn did, read from its trace and its events: the compact record an evaluation keeps per turn and checks
assertions against (pure Python: no Django), and the inventory of a behavior document used for coverage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

RATIONALE_MAX_CHARS = 600
RAN_STATUSES = frozenset({"ok", "error", "timeout"})  # the tool was run (an error is still a call)


def _text(value: Any, limit: int = RATIONALE_MAX_CHARS) -> str:
    text = str(value or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def turn_observation(
    *,
    index: int,
    customer_text: str,
    customer_offset: int,
    turn_id: int | None,
    status: str,
    trace: Mapping[str, Any] | None,
    events: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """One turn as the evaluation records it. `events` are the turn's events as {kind, source, data, offset}."""
    trace = trace if isinstance(trace, Mapping) else {}
    replies: list[str] = []
    preamble = ""
    canned_from_message = None
    fallback = False
    for event in events:
        data = event.get("data") or {}
        if event.get("kind") != "message" or event.get("source") not in ("agent", "human_operator"):
            continue
        if data.get("preamble"):
            preamble = str(data.get("text") or "")
            continue
        replies.append(str(data.get("text") or ""))
        canned_from_message = canned_from_message or data.get("canned_response")
        fallback = fallback or bool(data.get("fallback"))
    matching = trace.get("matching") or {}
    verdicts: dict[str, dict[str, Any]] = {}
    for verdict in matching.get("verdicts") or []:
        if not isinstance(verdict, Mapping) or not verdict.get("key"):
            continue
        key = str(verdict["key"])
        # The last iteration's verdict is the one the turn acted on
        verdicts[key] = {"applies": bool(verdict.get("applies")), "rationale": _text(verdict.get("rationale"))}
    resolution = trace.get("resolution") or {}
    dropped = [
        {
            "guideline": str(item.get("guideline")),
            "kind": str(item.get("kind") or ""),
            "reason": _text(item.get("reason"), 300),
            "by": item.get("by"),
        }
        for item in resolution.get("decisions") or []
        if isinstance(item, Mapping) and item.get("action") == "dropped"
    ]
    added = [
        str(item.get("guideline"))
        for item in resolution.get("decisions") or []
        if isinstance(item, Mapping) and item.get("action") == "added"
    ]
    tools: list[dict[str, Any]] = [
        {
            "tool": str(call.get("tool")),
            "source": str(call.get("source") or ""),
            "arguments": call.get("arguments") if isinstance(call.get("arguments"), Mapping) else {},
            "status": str(call.get("status") or ""),
            "missing": list(call.get("missing") or []),
            "invalid": list(call.get("invalid") or []),
            "error": _text(call.get("error"), 300) if call.get("error") else None,
            "mocked": False,  # set by the run from its mock runner's record
        }
        for call in (trace.get("tools") or {}).get("calls") or []
        if isinstance(call, Mapping)
    ]
    journeys = trace.get("journeys") or {}
    composition = trace.get("composition") or {}
    tokens = trace.get("tokens") or {}
    turn = trace.get("turn") or {}
    timings = trace.get("timings") or {}
    handoff = trace.get("handoff")
    return {
        "index": index,
        "customer": customer_text,
        "customer_offset": customer_offset,
        "turn_id": turn_id,
        "status": status,
        "outcome": str(turn.get("outcome") or ""),
        "reply": "\n\n".join(replies),
        "preamble": preamble,
        "fallback": fallback,
        "candidates": [str(c.get("key")) for c in (trace.get("retrieval") or {}).get("candidates") or []],
        "verdicts": verdicts,
        "active": [str(key) for key in resolution.get("active") or []],
        "added": added,
        "dropped": dropped,
        "clarification": resolution.get("clarification"),
        "tools": tools,
        "insights": [_text(item, 300) for item in (trace.get("tools") or {}).get("insights") or []],
        "journeys_before": dict(journeys.get("before") or {}),
        "journeys_after": dict(journeys.get("after") or {}),
        "moves": [
            {
                "journey": str(move.get("journey")),
                "move": str(move.get("move")),
                "from": move.get("from_state"),
                "to": move.get("to_state"),
                "valid": bool(move.get("valid", True)),
                "reason": _text(move.get("reason"), 300),
            }
            for move in journeys.get("moves") or []
            if isinstance(move, Mapping)
        ],
        "composition_mode": str(composition.get("mode") or ""),
        "canned": composition.get("canned_chosen") or canned_from_message,
        "canned_candidates": list(composition.get("canned_candidates") or []),
        "handoff": bool(handoff) or str(turn.get("outcome") or "") == "handed_off",
        "handoff_detail": handoff if isinstance(handoff, Mapping) else None,
        "tokens": int(tokens.get("prompt") or 0) + int(tokens.get("completion") or 0),
        "prompt_tokens": int(tokens.get("prompt") or 0),
        "completion_tokens": int(tokens.get("completion") or 0),
        "llm_calls": int(turn.get("llm_calls") or 0),
        "tokens_by_model": _tokens_by_model(trace.get("llm_calls") or []),
        "wall_ms": float(timings.get("wall_ms") or 0.0),
        "overhead_ms": float(timings.get("overhead_ms") or 0.0),
        "errors": [_text(item.get("error"), 300) for item in trace.get("errors") or [] if isinstance(item, Mapping)],
    }


def _tokens_by_model(calls: Iterable[Any]) -> dict[str, list[int]]:
    totals: dict[str, list[int]] = {}
    for call in calls:
        if isinstance(call, Mapping):
            entry = totals.setdefault(str(call.get("model") or ""), [0, 0])
            entry[0] += int(call.get("prompt_tokens") or 0)
            entry[1] += int(call.get("completion_tokens") or 0)
    return totals


def document_inventory(document: Mapping[str, Any]) -> dict[str, Any]:
    """The entity keys of a behavior document that coverage reports on, with what cause texts quote."""
    journeys: dict[str, Any] = {}
    for journey in document.get("journeys") or []:
        states = [str(state.get("key")) for state in journey.get("states") or []]
        transitions = [
            [str(t.get("source") or ""), str(t.get("target") or "")] for t in journey.get("transitions") or []
        ]
        journeys[str(journey.get("key"))] = {
            "title": str(journey.get("title") or journey.get("key")),
            "states": states,
            "transitions": transitions,
            "triggers": [str(item) for item in journey.get("triggers") or []],
            "conditions": [_text(item, 300) for item in journey.get("conditions") or []],
        }
    return {
        "guidelines": {
            str(item.get("key")): _text(item.get("condition"), 300) for item in document.get("guidelines") or []
        },
        "journeys": journeys,
        "disabled_guidelines": sorted(
            str(item.get("key")) for item in document.get("guidelines") or [] if item.get("enabled") is False
        ),
        "canned": [str(item.get("key")) for item in document.get("canned_responses") or []],
        "tools": sorted({str(item.get("name")) for item in document.get("tools") or []}),
    }


def names(items: Sequence[str], *, limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "") if items else "none"
