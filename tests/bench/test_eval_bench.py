"""The evaluation bench (bench/eval_bench.py): its arithmetic (model wait with overlapping calls, concurrency from
intervals) and a tiny run end to end in its own process (a fresh SQLite database, the fake OpenAI server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from behavior.evaluations.format import case_parse
from bench.eval_bench import arguments_parse, most_overlapping
from bench.eval_cases import HANDOFF, bench_cases
from bench.eval_timing import AttemptTiming

ROOT = Path(__file__).resolve().parents[2]


def test_the_model_wait_counts_the_fixed_latency_of_overlapping_calls_once() -> None:
    timing = AttemptTiming(result_id=1, calls=[(0.0, 0.35), (0.1, 0.42), (1.0, 1.31)])

    # [0, 0.3] and [0.1, 0.4] overlap: 0.4 s; then [1.0, 1.3]: 0.3 s (the round trip beyond 300 ms is not model time)
    assert timing.llm_wait_ms(300) == pytest.approx(700)
    assert AttemptTiming(result_id=2).llm_wait_ms(300) == 0


def test_the_concurrency_reached_is_the_most_intervals_open_at_once() -> None:
    assert most_overlapping([(0, 10), (1, 3), (2, 4), (5, 6)]) == 3
    assert most_overlapping([(0, 1), (1, 2)]) == 1  # one ends as the next starts
    assert most_overlapping([]) == 0


def test_the_generated_cases_are_valid_suite_cases_with_a_few_simulated_ones() -> None:
    cases = bench_cases(60)

    assert [case["key"] for case in cases] == [f"bench-{number:04d}" for number in range(1, 61)]
    for case in cases:
        case_parse(case)
    simulated = [case for case in cases if case.get("kind") == "simulated"]
    assert len(simulated) == 10
    scripted = [case for case in cases if case.get("kind") != "simulated"]
    assert {len(case["turns"]) for case in scripted} == {1, 2, 3}
    assert all(case["turns"] for case in scripted)
    for case in scripted:  # a handoff is always the last turn, and the case then expects it
        names = case["name"].split(": ", 1)[1].split(", ")
        assert HANDOFF not in names[:-1]
        assert ({"type": "handoff_requested"} in case["assertions"]) == (names[-1] == HANDOFF)
    assert bench_cases(60) == cases


def test_the_options_are_checked() -> None:
    assert arguments_parse([]).cases == 100
    with pytest.raises(SystemExit):
        arguments_parse(["--concurrency", "0"])
    with pytest.raises(SystemExit):
        arguments_parse(["--repeats", "11"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [[], ["--mode", "embedded", "--llm-server", "thread"]],
    ids=["run_evals threads, server process", "run_dispatch, server thread"],
)
def test_a_tiny_run_prints_and_writes_its_figures(tmp_path: Path, options: list[str]) -> None:
    out = tmp_path / "eval.json"
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    command = [sys.executable, "bench/eval_bench.py", "--cases", "3", "--repeats", "2", "--concurrency", "2"]
    command += ["--llm-latency-ms", "20", "--json", str(out), *options]

    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)

    assert finished.returncode == 0, finished.stderr[-3000:]
    printed = finished.stdout
    for heading in ("attempts/s", "concurrency set / reached", "LLM wait p50/p95", "overhead p50/p95", "pass"):
        assert heading in printed
    report = json.loads(out.read_text())
    assert report["all"]["attempts"] == 6
    assert report["all"]["errors"] == 0
    assert report["run"]["status"] in {"passed", "failed"}
    assert 1 <= report["concurrency_reached"] <= 2
    assert report["wall_seconds"] > 0 and report["attempts_per_second"] > 0
    calls = report["llm_calls"]
    assert calls["counted"] == calls["server_saw"] > 0
    assert calls["outside_attempts"] == 0
    for attempt in report["attempts"]:
        assert attempt["llm_calls"] > 0
        assert attempt["llm_wait_ms"] >= 20  # at least one call of 20 ms
        assert attempt["overhead_ms"] == pytest.approx(attempt["wall_ms"] - attempt["llm_wait_ms"], abs=0.2)
    assert report["all"]["overhead_ms"]["p50"] is not None
