"""Bad days: invalid model replies, transport errors, superseded turns, human mode."""

from __future__ import annotations

import asyncio

from behavior.engine.ports import LLMError, LLMTimeoutError
from behavior.engine.types import AppliedGuideline, CachedVariable, EngineConfig, SessionState
from tests.engine.builders import conversation, g, generated_guidelines, snapshot, turn
from tests.engine.fakes import CancelAfter, ScriptedLLM

REFUND = g("refund", "The customer asks for a refund", "Explain the refund policy")
POLITE = EngineConfig().error_reply
TWO_PASS = EngineConfig(single_pass_max_candidates=0)


async def test_three_validation_failures_end_with_an_error_status_and_a_polite_fallback() -> None:
    llm = ScriptedLLM(max_attempts=3).script(
        "matching", {"verdicts": "nope"}, {"wrong": 1}, {"verdicts": [{"id": "refund"}]}
    )
    state = SessionState(applied=(AppliedGuideline(key="refund", offset=0),))

    t = await turn(snapshot(guidelines=[REFUND]), conversation("refund?"), llm=llm, state=state, config=TWO_PASS)

    assert t.result.outcome == "failed"
    assert t.emitter.statuses == ["acknowledged", "processing", "error"]
    assert t.emitter.of("status")[-1]["detail"] == {"reason": "llm_error"}
    assert [(m["text"], m["data"]) for m in t.emitter.messages] == [(POLITE, {"fallback": True, "error": "llm"})]
    assert t.result.state == state
    call = t.trace["llm_calls"][0]
    assert call["purpose"] == "matching" and call["error"].startswith(
        "LLMValidationError: invalid reply after 3 attempts"
    )
    assert t.trace["errors"][0]["stage"] == "llm"
    assert t.emitter.of("trace")[0]["turn"]["outcome"] == "failed"


async def test_a_transport_error_while_streaming_fails_politely_after_partial_chunks() -> None:
    llm = ScriptedLLM(applies={"refund"}).script("composition", LLMTimeoutError("read timeout"))

    t = await turn(snapshot(guidelines=[REFUND]), conversation("refund?"), llm=llm, config=TWO_PASS)

    assert t.result.outcome == "failed"
    assert t.reply == POLITE
    assert t.trace["llm_calls"][-1]["purpose"] == "composition"
    assert t.trace["llm_calls"][-1]["error"] == "LLMTimeoutError: read timeout"


async def test_a_failed_single_pass_call_fails_the_turn_politely() -> None:
    llm = ScriptedLLM().script("single_pass", LLMError("503 after retries"))

    t = await turn(snapshot(guidelines=[REFUND]), conversation("refund?"), llm=llm)

    assert (t.result.outcome, t.reply, t.result.hops) == ("failed", POLITE, 1)


async def test_a_failed_analysis_does_not_fail_the_sent_reply() -> None:
    llm = ScriptedLLM(applies={"refund"}).script("analysis", LLMError("boom"))

    t = await turn(snapshot(guidelines=[REFUND]), conversation("refund?"), llm=llm, config=TWO_PASS)

    assert t.result.outcome == "replied"
    assert t.trace["analysis"]["method"] == "assume"
    assert [a.key for a in t.result.state.applied] == ["refund"]


async def test_a_superseded_turn_emits_no_reply() -> None:
    state = SessionState(journeys={}, applied=())

    t = await turn(
        snapshot(guidelines=[REFUND]),
        conversation("refund?"),
        llm=ScriptedLLM(applies={"refund"}),
        cancellation=CancelAfter(0),
        state=state,
        config=TWO_PASS,
    )

    assert t.result.outcome == "superseded"
    assert t.emitter.messages == [] and t.emitter.chunks == []
    assert t.llm.calls_for("composition") == []
    assert t.result.messages == ()
    assert t.result.state.applied == ()
    assert t.emitter.of("trace")[0]["turn"]["outcome"] == "superseded"


async def test_a_turn_superseded_after_composition_sends_no_final_message() -> None:
    t = await turn(snapshot(guidelines=[REFUND]), conversation("refund?"), cancellation=CancelAfter(1), config=TWO_PASS)

    assert t.result.outcome == "superseded"
    assert t.emitter.messages == []
    assert len(t.llm.calls_for("composition")) == 1


async def test_in_human_mode_the_engine_does_nothing() -> None:
    state = SessionState(
        mode="human", variables={"x": CachedVariable(value=1, fetched_at=__import__("datetime").datetime(2026, 1, 1))}
    )

    t = await turn(snapshot(guidelines=[REFUND]), conversation("hello?"), state=state)

    assert t.result.outcome == "human_mode"
    assert t.emitter.events == []
    assert t.llm.calls == []
    assert t.result.state is state
    assert (t.result.hops, t.result.llm_calls) == (0, 0)


async def test_an_unexpected_error_is_contained_and_the_customer_told() -> None:
    class BrokenEmbedder:
        model_id = "broken"
        dimensions = 4

        async def embed(self, texts):
            raise ValueError("index corrupted")

    t = await turn(
        snapshot(guidelines=[REFUND], glossary=()),
        conversation("refund?"),
        embedder=BrokenEmbedder(),
        config=EngineConfig(all_candidates_threshold=0),
    )

    assert t.result.outcome == "failed"
    assert t.reply == POLITE
    assert t.emitter.of("status")[-1]["detail"] == {"reason": "internal_error"}
    assert t.trace["errors"] == [{"stage": "internal", "error": "ValueError: index corrupted"}]


async def test_a_failed_matching_batch_cancels_its_sibling_calls() -> None:
    class FirstBatchFails(ScriptedLLM):
        started = 0
        finished = 0

        async def generate(self, request, schema, **kwargs):
            self.started += 1
            if self.started == 1:
                raise LLMError("batch failed")
            await asyncio.sleep(5)
            self.finished += 1
            return await super().generate(request, schema, **kwargs)

    llm = FirstBatchFails()
    config = EngineConfig(all_candidates_threshold=100, matching_batch_size=10, single_pass_max_candidates=0)

    t = await turn(snapshot(guidelines=generated_guidelines(30)), conversation("hi"), llm=llm, config=config)

    assert t.result.outcome == "failed"
    assert (llm.started, llm.finished) == (3, 0)
    assert t.trace["timings"]["wall_ms"] < 2000


async def test_a_turn_without_any_customer_message_keeps_candidates_bounded() -> None:
    from behavior.engine.types import Interaction

    t = await turn(snapshot(guidelines=generated_guidelines(1000)), Interaction(session_id="s"))

    assert t.result.outcome == "replied"
    assert len(t.trace["retrieval"]["candidates"]) <= EngineConfig().always_included_cap
