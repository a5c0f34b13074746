"""The explainability panel: one turn's trace rendered as a server-side partial (checked on its own)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from config.htmx import HtmxHttpRequest
from sessions.models import Session
from sessions.selectors import guideline_ids_by_key, guideline_texts, session_get_for_user, turn_trace

JSON_PREVIEW_MAX_CHARS = 6000


@require_GET
@login_required
def turn_trace_view(request: HtmxHttpRequest, uid: str, turn_id: int) -> HttpResponse:
    session, access = session_get_for_user(request.user, uid)
    turn, trace = turn_trace(session, turn_id=turn_id)
    context = {
        "session": session,
        "access": access,
        "turn": turn,
        "trace": trace_context(session, trace.data) if trace is not None else None,
    }
    template = "sessions/trace.html#trace-panel" if request.htmx else "sessions/trace.html"
    return render(request, template, context)


def trace_context(session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """The trace reshaped for the template: guidelines resolved to texts and editor links, JSON previews,
    stage bars. Tolerates missing sections (an older trace, or a turn that failed early)."""
    data = data if isinstance(data, Mapping) else {}
    turn = _mapping(data.get("turn"))
    timings = _mapping(data.get("timings"))
    matching = _mapping(data.get("matching"))
    resolution = _mapping(data.get("resolution"))
    journeys = _mapping(data.get("journeys"))
    tools = _mapping(data.get("tools"))
    composition = _mapping(data.get("composition"))
    tokens = _mapping(data.get("tokens"))
    retrieval = _mapping(data.get("retrieval"))
    verdicts = [_mapping(item) for item in _list(matching.get("verdicts"))]
    decisions = [_mapping(item) for item in _list(resolution.get("decisions"))]
    active = [key for key in _list(resolution.get("active")) if isinstance(key, str)]

    mentioned = [v.get("key") for v in verdicts] + [d.get(field) for d in decisions for field in ("guideline", "by")]
    keys = {key for key in [*mentioned, *active] if isinstance(key, str)}
    ids = guideline_ids_by_key(session.agent, keys)
    texts = guideline_texts(session, keys)

    def guideline(key: Any) -> dict[str, Any] | None:
        if not isinstance(key, str):
            return None
        text = texts.get(key, {})
        return {
            "key": key,
            "title": text.get("title") or "",
            "condition": text.get("condition") or "",
            "action": text.get("action"),
            "url": _guideline_url(session.agent_id, ids.get(key)),
        }

    def verdict_row(verdict: Mapping[str, Any]) -> dict[str, Any]:
        return {**verdict, "guideline": guideline(verdict.get("key")), "active": verdict.get("key") in active}

    verdict_by_key = {v["key"]: v for v in verdicts if isinstance(v.get("key"), str)}

    held = sorted(
        (v["key"] for v in verdicts if v.get("applies") and isinstance(v.get("key"), str)),
        key=lambda key: -(_number(verdict_by_key[key].get("score")) or 0.0),
    )
    outcomes = _outcomes(verdict_by_key, decisions, active, _mapping(data.get("analysis")), held, guideline=guideline)
    wall_ms = _number(timings.get("wall_ms")) or 0.0
    llm_calls = [_mapping(call) for call in _list(data.get("llm_calls"))]
    prompt_tokens = int(_number(tokens.get("prompt")) or 0)
    completion_tokens = int(_number(tokens.get("completion")) or 0)
    return {
        "turn": turn,
        "outcome": turn.get("outcome") or "",
        "timings": timings,
        "wall_ms": wall_ms,
        "stages": _stage_bars(_list(timings.get("stages")), wall_ms),
        "not_matched": [verdict_row(v) for v in verdicts if not v.get("applies")],
        "dropped": [
            {**d, "guideline": guideline(d.get("guideline")), "by_guideline": guideline(d.get("by"))}
            for d in decisions
            if d.get("action") == "dropped"
        ],
        "added": [
            {**d, "guideline": guideline(d.get("guideline")), "by_guideline": guideline(d.get("by"))}
            for d in decisions
            if d.get("action") == "added"
        ],
        "decision_count": len(decisions),
        **outcomes,
        "clarification": resolution.get("clarification"),
        "journeys_before": _mapping(journeys.get("before")),
        "journeys_after": _mapping(journeys.get("after")),
        "moves": [_mapping(move) for move in _list(journeys.get("moves"))],
        "glossary": [_mapping(term) for term in _list(data.get("glossary"))],
        "tool_calls": [
            {**call, "arguments_json": _json(call.get("arguments")), "result_json": _json(call.get("result"))}
            for call in (_mapping(item) for item in _list(tools.get("calls")))
        ],
        "insights": [item for item in _list(tools.get("insights")) if isinstance(item, str)],
        "composition": composition,
        # Each candidate with the reason it was offered (linked, all, similar), when the engine traced them.
        "canned_candidates": _list(_mapping(composition.get("canned_retrieval")).get("candidates"))
        or _list(composition.get("canned_candidates")),
        "canned_chosen": composition.get("canned_chosen"),
        "draft": composition.get("draft"),
        "llm_calls": [
            {
                **call,
                "total_tokens": int(_number(call.get("prompt_tokens")) or 0)
                + int(_number(call.get("completion_tokens")) or 0),
            }
            for call in llm_calls
        ],
        "tokens": {
            "prompt": prompt_tokens,
            "completion": completion_tokens,
            "total": prompt_tokens + completion_tokens,
            "by_purpose": _mapping(tokens.get("by_purpose")),
        },
        "retrieval": retrieval,
        "candidates": [_mapping(item) for item in _list(retrieval.get("candidates"))][:50],
        "variables": [_mapping(item) for item in _list(_mapping(data.get("context")).get("variables"))],
        "analysis": _mapping(data.get("analysis")),
        "errors": [_mapping(item) for item in _list(data.get("errors"))],
    }


def _outcomes(
    verdict_by_key: Mapping[str, Mapping[str, Any]],
    decisions: list[dict[str, Any]],
    active: list[str],
    analysis: Mapping[str, Any],
    held: list[str],
    *,
    guideline: Any,
) -> dict[str, Any]:
    """Each guideline's three outcomes, kept apart: did its condition hold (matching), was it active after the
    relationships (resolution), did the reply carry it out (the after-reply analysis). `active_rows` are the
    guidelines the reply had to follow, `dropped_rows` the ones whose condition held but resolution removed."""
    added = {d.get("guideline"): d for d in decisions if d.get("action") == "added"}
    dropped = {d.get("guideline"): d for d in decisions if d.get("action") == "dropped"}
    applied = {k for k in _list(analysis.get("applied")) if isinstance(k, str)}
    not_applied = {k for k in _list(analysis.get("not_applied")) if isinstance(k, str)}

    def reply_outcome(key: str) -> str:
        if key in applied:
            return "applied"
        if key in not_applied:
            return "not applied"
        return "not tracked" if analysis.get("method") else ""

    def row(key: str) -> dict[str, Any]:
        verdict = verdict_by_key.get(key, {})
        held = bool(verdict.get("applies"))
        return {
            **verdict,
            "key": key,
            "guideline": guideline(key),
            "condition": "held" if held else ("did not hold" if verdict else "not judged"),
            "resolution": "active" if key in active else ("dropped" if key in dropped else "not active"),
            "added_by": added.get(key),
            "dropped_by": dropped.get(key),
            "reply": reply_outcome(key) if key in active else "",
        }

    active_set = set(active)
    held_set = set(held)
    active_rows = [row(k) for k in held if k in active_set] + [row(k) for k in active if k not in held_set]
    dropped_rows = [row(k) for k in held if k not in active_set]
    return {
        "active_rows": active_rows,
        "dropped_rows": dropped_rows,
        "funnel": {
            "held": len(held),
            "active": len(active_rows),
            "applied": sum(1 for r in active_rows if r["reply"] == "applied"),
            "tracked": bool(analysis.get("method")) and analysis.get("method") != "skipped",
            "method": analysis.get("method") or "",
        },
    }


def _guideline_url(agent_id: int, guideline_id: int | None) -> str | None:
    """The guideline's studio page (the draft's guideline with that key; None once it was deleted)."""
    if guideline_id is None:
        return None
    return reverse("studio:guideline-detail", kwargs={"agent_id": agent_id, "guideline_id": guideline_id})


def _stage_bars(stages: list[Any], wall_ms: float) -> list[dict[str, Any]]:
    total = wall_ms or max(
        (
            (_number(s.get("started_ms")) or 0.0) + (_number(s.get("duration_ms")) or 0.0)
            for s in stages
            if isinstance(s, Mapping)
        ),
        default=0.0,
    )
    bars = []
    for stage in stages:
        if not isinstance(stage, Mapping):
            continue
        start = _number(stage.get("started_ms")) or 0.0
        duration = _number(stage.get("duration_ms")) or 0.0
        left = min(100.0, 100.0 * start / total) if total else 0.0
        width = min(100.0 - left, 100.0 * duration / total) if total else 0.0
        bars.append(
            {
                "name": str(stage.get("name", "")),
                "started_ms": start,
                "duration_ms": duration,
                "left": f"{left:.2f}",
                "width": f"{max(width, 0.5):.2f}",
            }
        )
    return bars


def _json(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= JSON_PREVIEW_MAX_CHARS else text[:JSON_PREVIEW_MAX_CHARS] + "\n…"


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
