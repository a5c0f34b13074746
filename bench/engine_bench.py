"""The engine benchmark: scripted conversations over generated behavior models of growing size, against
a fake LLM with a latency model, in virtual time. Prints tables, checks the targets of docs/architecture.md §10, writes
bench/out/engine_bench.json and .png.

    python -m bench.engine_bench                  # sizes 10, 50, 200, 1000, 5000
    python -m bench.engine_bench --quick          # sizes 10, 50, 1000, fewer conversations
    python -m bench.engine_bench --profile 1000   # also cProfile the engine at 1,000 guidelines
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.conversations import (
    BAGGAGE_CONVERSATION,
    REFERENCE_CONVERSATION,
    SINGLE_PASS_CONVERSATION,
    main_conversations,
)
from bench.fake_llm import LatencyModel
from bench.generate import (
    behavior_document,
    reference_document,
    single_pass_document,
)
from bench.report import (
    plot,
    reference_table,
    sizes_table,
    summarize,
    targets_check,
    tool_turns_table,
)
from bench.runner import ScenarioResult, ScenarioSpec, run_virtual, scenario_run

DEFAULT_SIZES = (10, 50, 200, 1000, 5000)
QUICK_SIZES = (10, 50, 1000)
OUT_DIR = Path(__file__).resolve().parent / "out"


@dataclass
class BenchOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    turns: int = 6
    conversations: int = 3
    latency: LatencyModel = field(default_factory=LatencyModel)
    tool_latency_ms: float = 150.0
    seed: int = 7
    out_dir: Path | None = OUT_DIR
    draw: bool = True
    profile_size: int | None = None
    reference_sizes: tuple[int, ...] = (5, 100)
    extra_scenarios: bool = True  # single-pass, with tool, reference agent


def bench_specs(options: BenchOptions) -> list[ScenarioSpec]:
    specs = []
    for size in options.sizes:
        document = behavior_document(size, seed=options.seed)
        specs.append(
            ScenarioSpec(
                "sizes", size, document, main_conversations(document, count=options.conversations, seed=options.seed)
            )
        )
    if options.extra_scenarios:
        specs.append(ScenarioSpec("single-pass", 6, single_pass_document(), [SINGLE_PASS_CONVERSATION]))
        specs.append(ScenarioSpec("with-tool", 10, behavior_document(10, seed=options.seed), [BAGGAGE_CONVERSATION]))
        for size in options.reference_sizes:
            specs.append(ScenarioSpec("reference", size, reference_document(size), [REFERENCE_CONVERSATION]))
        if 100 in options.reference_sizes:
            specs.append(
                ScenarioSpec(
                    "reference-all-apply", 100, reference_document(100), [REFERENCE_CONVERSATION], policy="all"
                )
            )
    return specs


def bench_run(options: BenchOptions, *, out: Any = None) -> dict[str, Any]:
    """Run every scenario, print the report to `out`, write JSON/PNG when `options.out_dir` is set;
    returns the report (what the JSON holds)."""
    out = out if out is not None else sys.stdout
    specs = bench_specs(options)
    started = time.perf_counter()

    async def all_scenarios() -> list[ScenarioResult]:
        return [
            await scenario_run(
                spec, latency=options.latency, tool_latency_ms=options.tool_latency_ms, turns=options.turns
            )
            for spec in specs
        ]

    results = run_virtual(all_scenarios)
    summaries = [summarize(r) for r in results]
    tool_turns = [t for r in results for t in r.turns if t.tool_round]
    checks = targets_check(summaries, tool_turns)

    def show(text: str = "") -> None:
        print(text, file=out)

    show(
        f"Decorum engine bench: {options.latency.describe()}; tools {options.tool_latency_ms:g} ms; virtual time, real engine overhead"
    )
    show(
        f"{options.conversations} conversation(s) x {options.turns} turns per size; prompt tokens ~chars/4 incl. the JSON schema of structured calls"
    )
    show()
    show("Per size (scripted conversations: baggage journey + tools, rebooking journey, topic questions)")
    show(sizes_table([s for s in summaries if s["scenario"] == "sizes"]))
    extra = [s for s in summaries if s["scenario"] in ("single-pass", "with-tool")]
    if extra:
        show()
        show("Single-pass (6 guidelines, no tools) and with-tool (core agent, baggage conversation)")
        show(sizes_table(extra))
    if tool_turns:
        show()
        show("Turns with a tool round")
        show(tool_turns_table(tool_turns))
    reference = [s for s in summaries if s["scenario"].startswith("reference")]
    if reference:
        show()
        show("Reference agent (architecture.md §10: 5 guidelines + a tool + a journey + a glossary term, then fillers)")
        show(reference_table(reference))
    show()
    show("Targets (docs/architecture.md §10)")
    for check in checks:
        show(f"  [{'PASS' if check.passed else 'FAIL'}] {check.name}: {check.detail}")
    for s in summaries:
        if s["unknown_schemas"]:
            show(f"  note: the fake answered unknown schemas generically: {s['unknown_schemas']}")

    profile_text = ""
    if options.profile_size is not None:
        profile_text = profile_run(options)
        show()
        show(f"cProfile of the engine at {options.profile_size} guidelines (cumulative, top 30)")
        show(profile_text)
    show()
    show(f"bench wall time {time.perf_counter() - started:.1f} s")

    report = {
        "generated_at": datetime.now(UTC).isoformat(),
        "options": {
            "sizes": list(options.sizes),
            "turns": options.turns,
            "conversations": options.conversations,
            "latency": options.latency.__dict__,
            "tool_latency_ms": options.tool_latency_ms,
            "seed": options.seed,
        },
        "summaries": summaries,
        "targets": [check.__dict__ for check in checks],
        "scenarios": [r.as_dict() for r in results],
        "profile": profile_text,
    }
    if options.out_dir is not None:
        options.out_dir.mkdir(parents=True, exist_ok=True)
        (options.out_dir / "engine_bench.json").write_text(json.dumps(report, indent=1, default=str))
        if options.draw:
            plot(summaries, options.out_dir / "engine_bench.png")
        show(
            f"wrote {options.out_dir / 'engine_bench.json'}"
            + (f" and {options.out_dir / 'engine_bench.png'}" if options.draw else "")
        )
    return report


def profile_run(options: BenchOptions) -> str:
    """The engine's hot spots at one size (a separate run, so profiling does not distort the numbers)."""
    assert options.profile_size is not None
    document = behavior_document(options.profile_size, seed=options.seed)
    spec = ScenarioSpec(
        "profile",
        options.profile_size,
        document,
        main_conversations(document, count=options.conversations, seed=options.seed),
    )
    profiler = cProfile.Profile()
    run_virtual(
        lambda: scenario_run(
            spec,
            latency=options.latency,
            tool_latency_ms=options.tool_latency_ms,
            turns=options.turns,
            profiler=profiler,
        )
    )
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(30)
    if options.out_dir is not None:
        options.out_dir.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(str(options.out_dir / f"engine_profile_{options.profile_size}.pstats"))
    return buffer.getvalue()


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError("sizes are comma-separated integers, e.g. 10,50,1000") from error
    if not sizes or any(s < 10 or s > 5000 for s in sizes):
        raise argparse.ArgumentTypeError("every size must be between 10 and 5000 (the document format's cap)")
    return sizes


def _latency(text: str) -> LatencyModel:
    try:
        return LatencyModel.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", type=_sizes, help=f"comma-separated guideline counts (default {','.join(map(str, DEFAULT_SIZES))})"
    )
    parser.add_argument("--turns", type=int, default=6, help="turns per conversation (1-6, default 6)")
    parser.add_argument(
        "--conversations", type=int, default=None, help="conversations per size (1-3, default 3; 2 with --quick)"
    )
    parser.add_argument(
        "--latency",
        type=_latency,
        default=LatencyModel(),
        help='per_call_ms,per_100_prompt_tokens_ms,per_10_completion_tokens_ms (default "400,5,20")',
    )
    parser.add_argument(
        "--tool-latency-ms", type=float, default=150.0, help="simulated latency of every tool call (default 150)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quick", action="store_true", help=f"sizes {','.join(map(str, QUICK_SIZES))} and 2 conversations"
    )
    parser.add_argument(
        "--profile", type=int, metavar="SIZE", help="also profile the engine at this size with cProfile"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory (default bench/out)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not 1 <= args.turns <= 6:
        parser.error("--turns must be between 1 and 6")
    conversations = args.conversations if args.conversations is not None else (2 if args.quick else 3)
    if not 1 <= conversations <= 3:
        parser.error("--conversations must be between 1 and 3")
    options = BenchOptions(
        sizes=args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES),
        turns=args.turns,
        conversations=conversations,
        latency=args.latency,
        tool_latency_ms=args.tool_latency_ms,
        seed=args.seed,
        out_dir=args.out,
        draw=not args.no_plot,
        profile_size=args.profile,
    )
    report = bench_run(options)
    if args.check and not all(check["passed"] for check in report["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
