"""The trace is complete and JSON-serialisable; the session state round-trips through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from behavior.engine import trace as trace_module
from behavior.engine.types import AppliedGuideline, CachedVariable, EngineConfig, SessionState, Tool, ToolParameter
from tests.engine.builders import conversation, g, generated_guidelines, rel, snapshot, turn
from tests.engine.fakes import FakeToolRunner, ScriptedLLM, tool_call

TOP_LEVEL_KEYS = [
    "version",
    "turn",
    "timings",
    "context",
    "retrieval",
    "glossary",
    "matching",
    "resolution",
    "journeys",
    "tools",
    "handoff",
    "composition",
    "analysis",
    "llm_calls",
    "tokens",
    "errors",
]


async def test_the_trace_records_every_stage_and_is_json_serialisable() -> None:
    lookup = Tool(name="lookup_booking", parameters=(ToolParameter(name="booking_reference"),))
    status = g("status", "The customer asks about their booking", "Tell the status", tools=("lookup_booking",))
    snap = snapshot(
        guidelines=[*generated_guidelines(60), status],
        tools=[lookup],
        relationships=[rel("overrides", "status", "g-0001")],
    )
    llm = ScriptedLLM(
        applies={"status", "g-0001"}, tool_calls={"status": [tool_call("lookup_booking", booking_reference="ABC123")]}
    )

    t = await turn(
        snap,
        conversation("What about my booking ABC123?"),
        llm=llm,
        tools=FakeToolRunner({"lookup_booking": {"ok": True}}),
    )

    trace = t.trace
    assert list(trace) == TOP_LEVEL_KEYS
    assert json.loads(json.dumps(trace)) == trace
    assert t.emitter.of("trace") == [trace]
    assert (
        trace["turn"]["outcome"] == "replied"
        and trace["turn"]["hops"] == 2
        and trace["turn"]["llm_calls"] == t.result.llm_calls
    )
    assert [s["name"] for s in trace["timings"]["stages"]] == [
        "context",
        "retrieval",
        "preparation",
        "composition",
        "analysis",
    ]
    assert trace["timings"]["overhead_ms"] <= trace["timings"]["wall_ms"]
    assert any(c["key"] == "status" and c["score"] is not None for c in trace["retrieval"]["candidates"])
    verdict = next(v for v in trace["matching"]["verdicts"] if v["key"] == "status")
    assert verdict["applies"] is True and verdict["rationale"] == "scripted: applies" and verdict["batch"] >= 1
    assert trace["resolution"]["decisions"] == [
        {
            "guideline": "g-0001",
            "action": "dropped",
            "reason": "overridden by status",
            "kind": "overrides",
            "by": "status",
        }
    ]
    assert trace["tools"]["calls"][0]["arguments"] == {"booking_reference": "ABC123"}
    for call in trace["llm_calls"]:
        assert set(call) >= {
            "purpose",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "retries",
            "hop",
            "sections",
            "prompt",
        }
        assert call["model"] == "gpt-4o-mini"
        assert sum(call["sections"].values()) > 0 and call["prompt"].startswith("[system]")
    tokens = trace["tokens"]
    assert tokens["prompt"] == sum(c["prompt_tokens"] for c in trace["llm_calls"]) > 0
    assert set(tokens["by_purpose"]) == {"matching", "composition", "analysis"}


def test_the_documented_top_level_keys_match_the_trace() -> None:
    doc = trace_module.__doc__ or ""
    for key in TOP_LEVEL_KEYS:
        assert f"``{key}``" in doc


async def test_prompt_text_in_the_trace_is_capped() -> None:
    t = await turn(
        snapshot(guidelines=generated_guidelines(40)),
        conversation("hello " * 2000),
        config=EngineConfig(trace_prompt_max_chars=500),
    )

    assert all(len(c["prompt"]) <= 501 for c in t.trace["llm_calls"])


async def test_a_section_over_its_budget_is_cut_and_the_cut_traced() -> None:
    from behavior.engine.prompts.sections import SECTION_BUDGETS
    from behavior.engine.types import GlossaryTerm

    glossary = [GlossaryTerm(name=f"term{n}", description="long words " * 30) for n in range(10)]
    text = " ".join(f"term{n}" for n in range(10))

    t = await turn(
        snapshot(guidelines=generated_guidelines(3), glossary=glossary),
        conversation(text),
        config=EngineConfig(glossary_top_k=10),
    )

    call = t.trace["llm_calls"][0]
    assert "glossary" in call["truncated"]
    assert call["sections"]["glossary"] <= SECTION_BUDGETS["glossary"]
    assert "… (cut to fit the prompt budget)" in call["prompt"]


def test_the_session_state_round_trips_through_json() -> None:
    state = SessionState(
        mode="human",
        applied=(AppliedGuideline(key="a", offset=3),),
        journeys={"rebooking": "lookup"},
        journey_paths={"rebooking": ("ask", "lookup")},
        variables={"miles": CachedVariable(value={"n": 1}, fetched_at=datetime(2026, 1, 1, tzinfo=UTC), error=None)},
        summary="customer: hi",
        summary_until_offset=4,
        key_facts=("ABC123",),
    )

    restored = SessionState.from_dict(json.loads(json.dumps(state.to_dict())))

    assert restored.to_dict() == state.to_dict()
    assert (
        restored.applied == state.applied
        and restored.variables["miles"].fetched_at == state.variables["miles"].fetched_at
    )
    assert SessionState.from_dict(None) == SessionState()
    assert SessionState.from_dict({"mode": "nonsense"}).mode == "auto"
