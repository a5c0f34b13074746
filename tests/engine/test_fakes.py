"""The scripted fakes behave as the real ports do, so other suites can rely on them."""

from __future__ import annotations

import pytest

from behavior.engine.ports import LLMError, LLMMessage, LLMRequest, LLMValidationError, ToolCallRequest
from behavior.engine.schemas import MatchingBatch, Preamble
from tests.engine.fakes import FakeEmbedder, FakeToolRunner, ScriptedLLM


def _request(purpose: str, text: str = "IDS: a, b") -> LLMRequest:
    return LLMRequest(purpose=purpose, model="m", messages=(LLMMessage(role="user", content=text),))


async def test_the_scripted_llm_answers_matching_from_the_listed_ids() -> None:
    result = await ScriptedLLM(applies={"b"}).generate(_request("matching"), MatchingBatch)

    assert [(v.id, v.applies) for v in result.value.verdicts] == [("a", False), ("b", True)]
    assert result.record.purpose == "matching" and result.record.prompt_tokens > 0


async def test_scripted_answers_are_used_once_in_order_and_invalid_ones_re_asked() -> None:
    llm = ScriptedLLM(max_attempts=2).script("preamble", {"message": 3}, Preamble(message="ok"), LLMError("down"))

    first = await llm.generate(_request("preamble"), Preamble)
    assert (first.value.message, first.record.retries) == ("ok", 1)
    with pytest.raises(LLMError, match="down"):
        await llm.generate(_request("preamble"), Preamble)
    llm.script("preamble", {"bad": 1}, {"bad": 2})
    with pytest.raises(LLMValidationError, match="after 2 attempts"):
        await llm.generate(_request("preamble"), Preamble)
    assert [c.purpose for c in llm.calls] == ["preamble"] * 3


async def test_the_scripted_stream_yields_chunks_and_a_record() -> None:
    stream = ScriptedLLM(reply="abcdefghij", chunk_size=4).stream(_request("composition"))

    chunks = [chunk async for chunk in stream]

    assert chunks == ["abcd", "efgh", "ij"]
    assert stream.record is not None and stream.record.completion_tokens == 3


async def test_the_fake_embedder_puts_texts_sharing_words_closer() -> None:
    embedder = FakeEmbedder()
    [a, b, c] = await embedder.embed(
        ["refund for a cancelled flight", "my flight was cancelled, refund?", "seat upgrade price"]
    )

    def dot(x: list[float], y: list[float]) -> float:
        return sum(i * j for i, j in zip(x, y, strict=True))

    assert dot(a, b) > 0.5 > dot(a, c)
    assert abs(dot(a, a) - 1.0) < 1e-6


async def test_the_fake_tool_runner_records_calls_and_raises_scripted_errors() -> None:
    runner = FakeToolRunner({"ok": lambda args: {"echo": args}, "bad": KeyError("x")})
    request = ToolCallRequest(tool_name="ok", arguments={"a": 1}, session_id="s", customer_id=None, timeout_seconds=1)

    outcome = await runner.run(request)

    assert outcome.data == {"echo": {"a": 1}}
    with pytest.raises(KeyError):
        await runner.run(
            ToolCallRequest(tool_name="bad", arguments={}, session_id="s", customer_id=None, timeout_seconds=1)
        )
    assert [c.tool_name for c in runner.calls] == ["ok", "bad"]
