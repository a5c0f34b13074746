"""Aggregates the bench's turn metrics, checks the targets of docs/architecture.md §10, prints tables and draws
the plot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.runner import ScenarioResult, TurnMetrics

# docs/architecture.md §10: Parlant 3.3.2 against a fake OpenAI server, per customer turn.
PARLANT_REFERENCE = {5: {"calls": 10, "prompt_tokens": 30_000, "hops": 3}, 100: {"calls": 26, "prompt_tokens": 86_000}}
PARLANT_ALL_APPLY_100 = {"calls": 44, "prompt_tokens": 199_000}
OVERHEAD_TARGET_MS = 50.0
SCALING_LIMIT = 1.5


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def mean(values: Sequence[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=float))) if values else float("nan")


def summarize(result: ScenarioResult) -> dict[str, Any]:
    turns = result.turns
    no_tool = [t for t in turns if not t.tool_round]
    with_tool = [t for t in turns if t.tool_round]
    targets = sum(t.targets for t in turns)
    purposes: Counter[str] = Counter()
    for t in turns:
        purposes.update(t.calls_by_purpose)
    return {
        "scenario": result.scenario,
        "size": result.size,
        "turns": len(turns),
        "outcomes": dict(Counter(t.outcome for t in turns)),
        "strategies": dict(Counter(t.strategy for t in turns)),
        "calls_mean": mean([t.llm_calls for t in turns]),
        "calls_max": max((t.llm_calls for t in turns), default=0),
        "calls_after_reply_mean": mean([t.calls_after_reply for t in turns]),
        "calls_by_purpose_per_turn": {p: round(n / max(1, len(turns)), 2) for p, n in sorted(purposes.items())},
        "hops_max_no_tool": max((t.hops for t in no_tool), default=0),
        "hops_max_tool": max((t.hops for t in with_tool), default=0),
        "hops_mean": mean([t.hops for t in turns]),
        "engine_hops_max": max((t.engine_hops for t in turns), default=0),
        "tool_turns": len(with_tool),
        "prompt_tokens_mean": mean([t.prompt_tokens for t in turns]),
        "prompt_tokens_max": max((t.prompt_tokens for t in turns), default=0),
        "completion_tokens_mean": mean([t.completion_tokens for t in turns]),
        "latency_p50_ms": percentile([t.latency_ms for t in turns], 50),
        "latency_p95_ms": percentile([t.latency_ms for t in turns], 95),
        "ttft_p50_ms": percentile([t.ttft_ms for t in turns], 50),
        "ttft_p95_ms": percentile([t.ttft_ms for t in turns], 95),
        "overhead_p50_ms": percentile([t.overhead_ms for t in turns], 50),
        "overhead_p95_ms": percentile([t.overhead_ms for t in turns], 95),
        "engine_overhead_p95_ms": percentile(
            [t.engine_overhead_ms for t in turns if t.engine_overhead_ms is not None], 95
        ),
        "candidates_mean": mean([t.candidates for t in turns]),
        "recall": (sum(t.targets_reached for t in turns) / targets) if targets else None,
        "index_build_ms": result.index_build_ms,
        "unknown_schemas": result.unknown_schemas,
    }


@dataclass(frozen=True)
class TargetCheck:
    name: str
    passed: bool
    detail: str


def targets_check(summaries: Sequence[dict[str, Any]], tool_turns: Sequence[TurnMetrics]) -> list[TargetCheck]:
    checks = []
    sizes = {s["size"]: s for s in summaries if s["scenario"] == "sizes"}
    single = [s for s in summaries if s["scenario"] == "single-pass"]
    failed = [s for s in summaries if s["outcomes"].get("failed")]
    checks.append(
        TargetCheck(
            "every turn replied",
            not failed,
            ", ".join(f"{s['scenario']}@{s['size']}: {s['outcomes']}" for s in failed) or "all turns replied",
        )
    )
    for s in single:
        all_single = set(s["strategies"]) == {"single_pass"}
        checks.append(
            TargetCheck(
                "single-pass: 1 hop",
                s["hops_max_no_tool"] <= 1 and all_single,
                f"max hops {s['hops_max_no_tool']}, strategies {s['strategies']}",
            )
        )
    no_tool_max = max((s["hops_max_no_tool"] for s in summaries), default=0)
    checks.append(TargetCheck("hops <= 2 without tools", no_tool_max <= 2, f"max {no_tool_max} over all scenarios"))
    if tool_turns:  # only measured when a scripted turn ran a tool (not with --turns 1)
        tool_max = max(t.hops for t in tool_turns)
        checks.append(
            TargetCheck(
                "hops <= 3 with a tool round", tool_max <= 3, f"max {tool_max} over {len(tool_turns)} tool turns"
            )
        )
    if 50 in sizes and 1000 in sizes:
        small, large = sizes[50], sizes[1000]
        for key, label in (("calls_mean", "LLM calls/turn"), ("prompt_tokens_mean", "prompt tokens/turn")):
            ratio = large[key] / small[key] if small[key] else float("inf")
            checks.append(
                TargetCheck(
                    f"{label} at 1,000 within {SCALING_LIMIT}x of 50",
                    ratio <= SCALING_LIMIT,
                    f"{large[key]:.1f} vs {small[key]:.1f} = {ratio:.2f}x",
                )
            )
    if 1000 in sizes:
        p95 = sizes[1000]["overhead_p95_ms"]
        checks.append(
            TargetCheck(f"overhead p95 < {OVERHEAD_TARGET_MS:g} ms at 1,000", p95 < OVERHEAD_TARGET_MS, f"{p95:.1f} ms")
        )
    for s in summaries:
        if s["scenario"] == "reference" and s["size"] == 100:
            parlant = PARLANT_REFERENCE[100]
            calls_ratio = parlant["calls"] / s["calls_mean"] if s["calls_mean"] else float("inf")
            token_ratio = (
                parlant["prompt_tokens"] / s["prompt_tokens_mean"] if s["prompt_tokens_mean"] else float("inf")
            )
            checks.append(
                TargetCheck(
                    "reference agent at 100: >= 5x fewer calls and prompt tokens than Parlant",
                    calls_ratio >= 5 and token_ratio >= 5,
                    f"{calls_ratio:.1f}x fewer calls, {token_ratio:.1f}x fewer prompt tokens",
                )
            )
    return checks


# ---------------------------------------------------------------------- printing


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _pair(a: float, b: float) -> str:
    return f"{_cell(a)} / {_cell(b)}"


def sizes_table(summaries: Sequence[dict[str, Any]]) -> str:
    rows = []
    for s in summaries:
        rows.append(
            [
                s["size"] if s["scenario"] == "sizes" else f"{s['scenario']} ({s['size']})",
                s["turns"],
                f"{_cell(s['calls_mean'])} ({s['calls_max']})",
                f"{s['hops_max_no_tool']} / {s['hops_max_tool'] if s['tool_turns'] else '-'}",
                _cell(s["hops_mean"]),
                _cell(s["prompt_tokens_mean"]),
                _cell(s["completion_tokens_mean"]),
                _pair(s["latency_p50_ms"], s["latency_p95_ms"]),
                _pair(s["ttft_p50_ms"], s["ttft_p95_ms"]),
                _pair(s["overhead_p50_ms"], s["overhead_p95_ms"]),
                _cell(s["candidates_mean"]),
                "-" if s["recall"] is None else f"{s['recall']:.0%}",
                _cell(s["index_build_ms"]),
            ]
        )
    headers = [
        "guidelines",
        "turns",
        "calls/turn (max)",
        "hops max: no tool / tool",
        "hops avg",
        "prompt tok/turn",
        "compl tok/turn",
        "latency p50/p95 ms",
        "TTFT p50/p95 ms",
        "overhead p50/p95 ms",
        "candidates",
        "recall",
        "index ms",
    ]
    return table(headers, rows)


def reference_table(summaries: Sequence[dict[str, Any]]) -> str:
    rows = []
    for s in summaries:
        all_apply = s["scenario"] == "reference-all-apply"
        parlant = PARLANT_ALL_APPLY_100 if all_apply else PARLANT_REFERENCE.get(s["size"])
        label = f"{s['size']} guidelines" + (" (all apply)" if all_apply else "")
        rows.append(
            [
                label,
                _cell(s["calls_mean"]),
                _cell(s["prompt_tokens_mean"]),
                s["hops_max_tool"] if s["tool_turns"] else s["hops_max_no_tool"],
                parlant["calls"] if parlant else "-",
                f"{parlant['prompt_tokens']:,}" if parlant else "-",
                f"{parlant['calls'] / s['calls_mean']:.1f}x" if parlant and s["calls_mean"] else "-",
                f"{parlant['prompt_tokens'] / s['prompt_tokens_mean']:.1f}x"
                if parlant and s["prompt_tokens_mean"]
                else "-",
            ]
        )
    headers = [
        "reference agent",
        "calls/turn",
        "prompt tok/turn",
        "hops max",
        "Parlant calls",
        "Parlant tokens",
        "fewer calls",
        "fewer tokens",
    ]
    return table(headers, rows)


def tool_turns_table(turns: Sequence[TurnMetrics]) -> str:
    rows = [
        [
            t.scenario,
            t.size,
            f"{t.conversation}#{t.turn}",
            t.tool_calls,
            t.hops,
            t.engine_hops,
            t.llm_calls,
            _cell(t.latency_ms),
            _cell(t.ttft_ms),
            _cell(t.overhead_ms),
        ]
        for t in turns
    ]
    return table(
        [
            "scenario",
            "guidelines",
            "turn",
            "tools run",
            "hops",
            "engine hops",
            "calls",
            "latency ms",
            "TTFT ms",
            "overhead ms",
        ],
        rows,
    )


def plot(summaries: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted((s for s in summaries if s["scenario"] == "sizes"), key=lambda s: s["size"])
    if not sizes:
        return
    x = [s["size"] for s in sizes]
    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        (axes[0][0], "LLM calls per turn", [("mean", "calls_mean"), ("max", "calls_max")], None),
        (axes[0][1], "prompt tokens per turn", [("mean", "prompt_tokens_mean"), ("max", "prompt_tokens_max")], None),
        (
            axes[1][0],
            "simulated latency (ms)",
            [("reply p50", "latency_p50_ms"), ("reply p95", "latency_p95_ms"), ("first token p50", "ttft_p50_ms")],
            None,
        ),
        (
            axes[1][1],
            "engine overhead (ms, real)",
            [("p50", "overhead_p50_ms"), ("p95", "overhead_p95_ms")],
            OVERHEAD_TARGET_MS,
        ),
    ]
    for axis, title, series, limit in panels:
        for label, key in series:
            axis.plot(x, [s[key] for s in sizes], marker="o", label=label)
        if limit is not None:
            axis.axhline(limit, color="red", linestyle="--", linewidth=1, label=f"target {limit:g} ms")
        axis.set_xscale("log")
        axis.set_xlabel("guidelines")
        axis.set_title(title)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.suptitle("Decorum engine bench (fake LLM, virtual time)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
