"""The engine bench's parts: generated behavior documents, the fake LLM, virtual time, hop counting, and a
tiny end-to-end bench run (fast: virtual time, two small sizes)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from behavior.documents.validation import document_validate
from behavior.engine.ports import LLMMessage, LLMRequest
from behavior.engine.schemas import SCHEMAS_BY_PURPOSE, JourneyStepSelection, MatchingBatch, SinglePassReply
from behavior.snapshot import snapshot_from_document
from bench.conversations import (
    BAGGAGE_CONVERSATION,
    main_conversations,
)
from bench.engine_bench import BenchOptions, bench_run, main
from bench.fake_llm import BenchLLM, CallLog, LatencyModel
from bench.generate import (
    behavior_document,
    reference_document,
    single_pass_document,
)
from bench.runner import hops_before, run_virtual


@pytest.mark.parametrize("size", [10, 200, 1000])
def test_generated_documents_have_the_requested_size_and_validate(size: int) -> None:
    document = behavior_document(size)

    document_validate(document)
    guidelines = document["guidelines"]
    assert len(guidelines) == size
    assert len({g["key"] for g in guidelines}) == size
    assert len({g["condition"] for g in guidelines}) == size
    assert any(g["action"] is None for g in guidelines)  # observations
    assert any(g["tools"] for g in guidelines)
    assert len(document["journeys"]) >= 2
    assert any(state["kind"] == "tool" for journey in document["journeys"] for state in journey["states"])
    assert document["tools"] and document["glossary"] and document["canned_responses"] and document["context_variables"]
    kinds = Counter(r["kind"] for r in document["relationships"])
    assert {"overrides", "depends_on", "entails", "reevaluate_after"} <= set(kinds)


def test_large_documents_spread_over_several_domains_with_relationships_per_domain() -> None:
    document = behavior_document(1000)

    domains = Counter(tag for g in document["guidelines"] for tag in g["tags"])
    assert len(domains) >= 8
    assert len(document["relationships"]) >= 50
    assert len(document["journeys"]) > 2


def test_the_same_seed_gives_the_same_document_and_another_seed_another() -> None:
    assert behavior_document(200, seed=3) == behavior_document(200, seed=3)
    assert behavior_document(200, seed=3)["guidelines"] != behavior_document(200, seed=4)["guidelines"]


def test_a_size_below_the_core_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        behavior_document(5)


def test_the_reference_and_single_pass_agents_validate_and_have_what_design_names() -> None:
    reference = reference_document(5)
    document_validate(reference)
    document_validate(reference_document(100))
    document_validate(single_pass_document())
    assert len(reference["guidelines"]) == 5
    assert len(reference["tools"]) == 1 and len(reference["journeys"]) == 1 and len(reference["glossary"]) == 1
    assert len(reference_document(100)["guidelines"]) == 100
    assert not single_pass_document()["tools"]


def test_topic_conversations_target_guidelines_of_the_document() -> None:
    document = behavior_document(200)
    topics = main_conversations(document)[2]
    keys = {g["key"] for g in document["guidelines"]}

    assert len(topics.messages) == 6
    assert all(target in keys for turn in range(6) for target in topics.targets_of(turn))


def _request(purpose: str, user: str) -> LLMRequest:
    return LLMRequest(purpose=purpose, model="m", messages=(LLMMessage("system", "rules"), LLMMessage("user", user)))


def test_the_fake_llm_judges_guidelines_by_shared_topic_words_and_reads_tool_arguments() -> None:
    llm = BenchLLM(snapshot=snapshot_from_document(behavior_document(10)))
    prompt = (
        "## HISTORY\n#0 customer: Hello\n#2 customer: Can you check the status of my booking ABC123?\n\n## GUIDELINES\n"
        "- [booking-status] WHEN The customer asks about the status of their booking or flight THEN Look it up | tools: lookup_booking\n"
        "- [baggage-allowance] WHEN The customer asks how much baggage they can bring THEN State it\n"
        "IDS: booking-status, baggage-allowance"
    )

    result = run_virtual(lambda: llm.generate(_request("matching", prompt), MatchingBatch))

    verdicts = {v.id: v for v in result.value.verdicts}
    assert verdicts["booking-status"].applies is True
    assert verdicts["baggage-allowance"].applies is False
    call = verdicts["booking-status"].tool_calls[0]
    assert call.tool == "lookup_booking"
    assert [(a.name, a.value) for a in call.arguments] == [("booking_reference", "ABC123")]
    assert verdicts["baggage-allowance"].tool_calls == []


def test_the_fake_llm_charges_the_latency_model_in_virtual_time() -> None:
    latency = LatencyModel(per_call_ms=400, per_100_prompt_tokens_ms=5, per_10_completion_tokens_ms=20)
    llm = BenchLLM(snapshot=snapshot_from_document(behavior_document(10)), latency=latency)

    async def call() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await llm.generate(_request("matching", "## HISTORY\n#0 customer: hi\nIDS: greeting"), MatchingBatch)
        return (loop.time() - started) * 1000

    real_start = time.perf_counter()
    elapsed_ms = run_virtual(call)

    log = llm.calls[0]
    assert log.simulated_ms == pytest.approx(latency.total_ms(log.prompt_tokens, log.completion_tokens))
    assert log.simulated_ms > 400
    assert elapsed_ms == pytest.approx(log.simulated_ms, abs=5)
    assert time.perf_counter() - real_start < 0.4  # the wait was skipped, not slept


def test_the_fake_llm_answers_every_engine_schema_with_a_valid_instance() -> None:
    llm = BenchLLM(snapshot=snapshot_from_document(behavior_document(10)))
    prompt = (
        "## HISTORY\n#0 customer: The booking reference is ABC123 and the bag tag number is BG4821.\n"
        "- [greeting] WHEN The customer greets the agent THEN Greet them\n"
        "IDS: greeting\nCANNED IDS: anything-else\nJOURNEY: baggage-claim\nCURRENT STATE: ask-details\nSTATES: ask-details, lookup"
    )

    async def answer_all() -> list[object]:
        values = []
        for purpose, schemas in SCHEMAS_BY_PURPOSE.items():
            for schema in schemas:
                values.append((await llm.generate(_request(purpose, prompt), schema)).value)
        return values

    values = run_virtual(answer_all)

    assert len(values) == sum(len(s) for s in SCHEMAS_BY_PURPOSE.values())
    assert llm.unknown_schemas == set()
    step = next(v for v in values if isinstance(v, JourneyStepSelection))
    assert (step.move, step.target_state) == ("advance", "lookup")
    assert step.tool_calls[0].tool == "lookup_booking"
    single = next(v for v in values if isinstance(v, SinglePassReply))
    assert single.reply


def test_the_latency_model_parses_three_numbers_and_rejects_anything_else() -> None:
    assert LatencyModel.parse("300,4,10") == LatencyModel(300, 4, 10)
    for bad in ("300,4", "a,b,c", "300,-1,10"):
        with pytest.raises(ValueError):
            LatencyModel.parse(bad)


def test_hops_count_calls_in_sequence_not_calls_in_parallel() -> None:
    def call(start: float, end: float) -> CallLog:
        return CallLog("matching", None, 1, 1, (end - start) * 1000, start=start, end=end)

    parallel_then_compose = [call(0.0, 0.5), call(0.01, 0.6), call(0.02, 0.45), call(0.61, 1.2)]
    assert hops_before(parallel_then_compose, moment=1.3) == 2
    assert hops_before(parallel_then_compose, moment=0.6) == 1  # composition started after the reply moment
    assert hops_before([*parallel_then_compose, call(1.21, 1.5)], moment=2.0) == 3
    assert hops_before([], moment=1.0) == 0


def test_the_virtual_loop_overlaps_concurrent_waits_without_sleeping() -> None:
    async def waits() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(asyncio.sleep(0.4), asyncio.sleep(0.6))
        middle = loop.time()
        await asyncio.sleep(1.0)
        return middle - start, loop.time() - start

    real_start = time.perf_counter()
    parallel, total = run_virtual(waits)

    assert parallel == pytest.approx(0.6, abs=0.02)
    assert total == pytest.approx(1.6, abs=0.03)
    assert time.perf_counter() - real_start < 0.5


def test_a_tiny_bench_run_measures_every_turn_and_writes_its_report(tmp_path: Path) -> None:
    options = BenchOptions(sizes=(10, 50), turns=2, conversations=1, out_dir=tmp_path, reference_sizes=(5,))
    printed: list[str] = []

    class Collect:
        def write(self, text: str) -> None:
            printed.append(text)

        def flush(self) -> None:
            pass

    report = bench_run(options, out=Collect())

    output = "".join(printed)
    assert "Per size" in output and "Targets" in output and "Reference agent" in output
    saved = json.loads((tmp_path / "engine_bench.json").read_text())
    assert (tmp_path / "engine_bench.png").stat().st_size > 10_000
    assert [s["size"] for s in saved["summaries"] if s["scenario"] == "sizes"] == [10, 50]
    turns = [t for scenario in saved["scenarios"] for t in scenario["turns"]]
    assert turns and all(t["outcome"] == "replied" for t in turns)
    for turn in turns:
        assert turn["hops"] == turn["engine_hops"]
        assert turn["llm_calls"] >= turn["hops"] >= 1
        assert turn["latency_ms"] >= 400 * turn["hops"]  # every hop costs at least one call's base latency
        assert turn["ttft_ms"] <= turn["latency_ms"]
        assert turn["prompt_tokens"] > 0 and turn["completion_tokens"] > 0
        assert turn["overhead_ms"] >= 0
    tool_turn = next(
        t
        for t in turns
        if t["scenario"] == "sizes" and t["conversation"] == BAGGAGE_CONVERSATION.name and t["turn"] == 2
    )
    assert tool_turn["tool_calls"] == 1 and tool_turn["hops"] <= 3
    single = next(s for s in report["summaries"] if s["scenario"] == "single-pass")
    assert single["hops_max_no_tool"] == 1
    assert {t["name"]: t["passed"] for t in saved["targets"]}["single-pass: 1 hop"] is True


def test_the_command_line_runs_a_small_bench_and_rejects_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--sizes", "10", "--turns", "1", "--conversations", "1", "--out", str(tmp_path), "--no-plot"])

    assert code == 0
    assert (tmp_path / "engine_bench.json").exists()
    assert not (tmp_path / "engine_bench.png").exists()
    assert "Targets" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--sizes", "9000"])
    with pytest.raises(SystemExit):
        main(["--latency", "1,2"])
