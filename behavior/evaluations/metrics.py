"""A run's figures from its attempts: pass rate, pass^k and pass@k per case, assertion compliance, tool-call
accuracy, turns to goal, LLM calls, tokens, latency percentiles and a cost estimate; the coverage of the behavior
it ran on; and the comparison of two runs. Pure Python over plain data (the EvalResult fields)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

Attempt = Mapping[str, Any]  # {"case_key", "repeat", "status", "turns", "assertions", "metrics"}
COUNTED = frozenset({"passed", "failed", "error"})  # cancelled attempts are left out of every rate


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k (τ-bench): the chance that k attempts drawn from n, of which c passed, all pass: C(c,k)/C(n,k)."""
    if n <= 0 or k <= 0 or k > n:
        return 0.0
    return math.comb(c, k) / math.comb(n, k)


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k: the chance that at least one of k attempts drawn from n passes: 1 - C(n-c,k)/C(n,k)."""
    if n <= 0 or k <= 0 or k > n:
        return 0.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def case_figures(attempts: Sequence[Attempt], *, k: int) -> dict[str, dict[str, Any]]:
    by_case: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_case[str(attempt["case_key"])].append(attempt)
    figures: dict[str, dict[str, Any]] = {}
    for key, rows in sorted(by_case.items()):
        counted = [row for row in rows if row.get("status") in COUNTED]
        n, c = len(counted), sum(1 for row in counted if row.get("status") == "passed")
        kk = min(k, n) if n else k
        figures[key] = {
            "attempts": n,
            "passed": c,
            "pass_rate": c / n if n else 0.0,
            "pass_hat_k": pass_hat_k(n, c, kk),
            "pass_at_k": pass_at_k(n, c, kk),
            "k": kk,
            "errors": sum(1 for row in counted if row.get("status") == "error"),
        }
    return figures


def _cost(tokens_by_model: Mapping[str, Sequence[int]], prices: Mapping[str, Mapping[str, float]]) -> float | None:
    """Dollars from {model: [prompt, completion]} and a price table in dollars per million tokens; None when a
    model has no price."""
    total = 0.0
    for model, (prompt, completion) in tokens_by_model.items():
        price = prices.get(model)
        if price is None:
            return None
        total += prompt * float(price.get("prompt", 0)) / 1e6 + completion * float(price.get("completion", 0)) / 1e6
    return round(total, 6)


def run_summary(
    attempts: Sequence[Attempt], *, k: int, prices: Mapping[str, Mapping[str, float]], min_pass_rate: float
) -> dict[str, Any]:
    counted = [row for row in attempts if row.get("status") in COUNTED]
    cases = case_figures(attempts, k=k)
    assertions = [item for row in counted for item in row.get("assertions") or []]
    tool_checks = [item for item in assertions if item.get("type") == "tool_called"]
    turns = [turn for row in counted for turn in row.get("turns") or []]
    latencies = [float(turn.get("wall_ms") or 0.0) for turn in turns if turn.get("turn_id")]
    goals = [row.get("metrics") or {} for row in counted if (row.get("metrics") or {}).get("simulated")]
    reached = [int(goal["turns_to_goal"]) for goal in goals if goal.get("goal_reached") and goal.get("turns_to_goal")]
    tokens_by_model: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for turn in turns:
        for model, (prompt, completion) in (turn.get("tokens_by_model") or {}).items():
            tokens_by_model[model][0] += int(prompt)
            tokens_by_model[model][1] += int(completion)
    for row in counted:  # the simulator's and the judge's calls cost too
        for model, (prompt, completion) in ((row.get("metrics") or {}).get("evaluator_tokens") or {}).items():
            tokens_by_model[model][0] += int(prompt)
            tokens_by_model[model][1] += int(completion)
    passed = sum(1 for row in counted if row.get("status") == "passed")
    pass_rate = passed / len(counted) if counted else 0.0
    return {
        "attempts": len(counted),
        "passed": passed,
        "failed": sum(1 for row in counted if row.get("status") == "failed"),
        "errors": sum(1 for row in counted if row.get("status") == "error"),
        "cancelled": sum(1 for row in attempts if row.get("status") == "cancelled"),
        "cases": len(cases),
        "pass_rate": pass_rate,
        "min_pass_rate": min_pass_rate,
        "meets_threshold": bool(counted) and pass_rate >= min_pass_rate,
        "pass_hat_k": sum(f["pass_hat_k"] for f in cases.values()) / len(cases) if cases else 0.0,
        "pass_at_k": sum(f["pass_at_k"] for f in cases.values()) / len(cases) if cases else 0.0,
        "k": k,
        "assertions": len(assertions),
        "assertions_passed": sum(1 for item in assertions if item.get("passed")),
        "assertion_compliance": (
            sum(1 for item in assertions if item.get("passed")) / len(assertions) if assertions else 0.0
        ),
        "tool_checks": len(tool_checks),
        "tool_call_accuracy": (
            sum(1 for item in tool_checks if item.get("passed")) / len(tool_checks) if tool_checks else None
        ),
        "simulated_attempts": len(goals),
        "goals_reached": len(reached),
        "turns_to_goal_mean": sum(reached) / len(reached) if reached else None,
        "turns": len(turns),
        "llm_calls": sum(int(turn.get("llm_calls") or 0) for turn in turns)
        + sum(int((row.get("metrics") or {}).get("evaluator_calls") or 0) for row in counted),
        "prompt_tokens": sum(v[0] for v in tokens_by_model.values()),
        "completion_tokens": sum(v[1] for v in tokens_by_model.values()),
        "latency_p50_ms": round(percentile(latencies, 0.5), 1),
        "latency_p95_ms": round(percentile(latencies, 0.95), 1),
        "cost_usd": _cost(tokens_by_model, prices),
        "tokens_by_model": {model: list(values) for model, values in sorted(tokens_by_model.items())},
        "by_case": cases,
    }


def run_coverage(inventory: Mapping[str, Any], attempts: Sequence[Attempt]) -> dict[str, Any]:
    """What the run never exercised: guidelines never active, journey states never reached and transitions never
    taken, canned responses never chosen, tools never called."""
    turns = [turn for row in attempts for turn in row.get("turns") or []]
    active = {key for turn in turns for key in turn.get("active") or []}
    canned = {turn.get("canned") for turn in turns if turn.get("canned")}
    tools = {call.get("tool") for turn in turns for call in turn.get("tools") or [] if call.get("status") == "ok"}
    visited: dict[str, set[str]] = defaultdict(set)
    taken: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for turn in turns:
        for journey, state in (turn.get("journeys_after") or {}).items():
            visited[journey].add(str(state))
        for move in turn.get("moves") or []:
            journey = str(move.get("journey"))
            if move.get("to"):
                visited[journey].add(str(move["to"]))
            if move.get("from"):
                visited[journey].add(str(move["from"]))
            if move.get("from") and move.get("to") and move.get("from") != move.get("to"):
                taken[journey].add((str(move["from"]), str(move["to"])))
    guidelines = list((inventory.get("guidelines") or {}).keys())
    journeys = inventory.get("journeys") or {}
    states_missed = {
        key: [state for state in info.get("states") or [] if state not in visited.get(key, set())]
        for key, info in journeys.items()
    }
    transitions_missed = {
        key: [pair for pair in info.get("transitions") or [] if tuple(pair) not in taken.get(key, set())]
        for key, info in journeys.items()
    }
    total_states = sum(len(info.get("states") or []) for info in journeys.values())
    total_transitions = sum(len(info.get("transitions") or []) for info in journeys.values())
    return {
        "guidelines_never_active": [key for key in guidelines if key not in active],
        "guidelines_total": len(guidelines),
        "states_never_reached": {key: value for key, value in states_missed.items() if value},
        "states_total": total_states,
        "transitions_never_taken": {key: value for key, value in transitions_missed.items() if value},
        "transitions_total": total_transitions,
        "canned_never_chosen": [key for key in inventory.get("canned") or [] if key not in canned],
        "canned_total": len(inventory.get("canned") or []),
        "tools_never_called": [name for name in inventory.get("tools") or [] if name not in tools],
        "tools_total": len(inventory.get("tools") or []),
    }


def _turn_behavior(turn: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer": turn.get("customer"),
        "active": sorted(turn.get("active") or []),
        "tools": [
            {"tool": call.get("tool"), "arguments": call.get("arguments"), "status": call.get("status")}
            for call in turn.get("tools") or []
        ],
        "journeys": dict(turn.get("journeys_after") or {}),
        "moves": [
            f"{m.get('journey')}: {m.get('from') or '·'} → {m.get('to') or '·'}" for m in turn.get("moves") or []
        ],
        "canned": turn.get("canned"),
        "reply": turn.get("reply"),
        "handoff": bool(turn.get("handoff")),
    }


def runs_compare(baseline: Sequence[Attempt], candidate: Sequence[Attempt], *, k: int) -> dict[str, Any]:
    """Per case: regressions (passed in the baseline, fails now) and improvements first, then the rest; and a
    behavioral diff per turn of each case's first attempt (guidelines, tools and arguments, journeys, reply)."""
    before, after = case_figures(baseline, k=k), case_figures(candidate, k=k)
    first_before = _first_attempts(baseline)
    first_after = _first_attempts(candidate)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            change = "added" if a is None else "removed"
        elif a["pass_rate"] > b["pass_rate"]:
            change = "regression"
        elif a["pass_rate"] < b["pass_rate"]:
            change = "improvement"
        else:
            change = "unchanged_pass" if b["pass_rate"] == 1.0 else "unchanged"
        turns_a = [_turn_behavior(t) for t in (first_before.get(key) or {}).get("turns") or []]
        turns_b = [_turn_behavior(t) for t in (first_after.get(key) or {}).get("turns") or []]
        diff = []
        for index in range(max(len(turns_a), len(turns_b))):
            left = turns_a[index] if index < len(turns_a) else None
            right = turns_b[index] if index < len(turns_b) else None
            changed = sorted(
                field
                for field in ("active", "tools", "journeys", "moves", "canned", "reply", "handoff")
                if (left or {}).get(field) != (right or {}).get(field)
            )
            diff.append({"index": index, "baseline": left, "candidate": right, "changed": changed})
        rows.append(
            {
                "case_key": key,
                "change": change,
                "baseline": a,
                "candidate": b,
                "turns": diff,
                "behavior_changed": any(item["changed"] for item in diff),
            }
        )
    order = {"regression": 0, "improvement": 1, "added": 2, "removed": 3, "unchanged": 4, "unchanged_pass": 5}
    rows.sort(key=lambda row: (order[row["change"]], row["case_key"]))
    return {
        "cases": rows,
        "regressions": sum(1 for row in rows if row["change"] == "regression"),
        "improvements": sum(1 for row in rows if row["change"] == "improvement"),
        "behavior_changes": sum(1 for row in rows if row["behavior_changed"]),
    }


def _first_attempts(attempts: Sequence[Attempt]) -> dict[str, Attempt]:
    first: dict[str, Attempt] = {}
    for attempt in sorted(attempts, key=lambda row: int(row.get("repeat") or 0)):
        first.setdefault(str(attempt["case_key"]), attempt)
    return first
