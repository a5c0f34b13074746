"""The real path end to end against a local model: llama-cpp-python's OpenAI-compatible server on
SmolLM2-135M, reached through the `local` profile and the OpenAI adapter in json_object mode (the
server turns the schema into a grammar). Quality is irrelevant; real tokens, valid JSON, streaming and
a full engine turn are what is proven. Run with `-m local_llm` (`.ci/run` does)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from agents.embeddings.hashing import HashingEmbedder
from agents.llm import OpenAILLM, llm_for_agent
from agents.llm.grammar_bounds import (
    GRAMMAR_MAX_ITEMS,
    GRAMMAR_MAX_NESTED_ITEMS,
    GRAMMAR_MAX_STRING_CHARS,
    grammar_bounded,
)
from behavior.engine.ports import LLMMessage, LLMRequest
from behavior.engine.schemas import SinglePassReply
from behavior.engine.turn import run_turn
from behavior.engine.types import (
    AgentSettings,
    CustomerInfo,
    EngineConfig,
    EnginePorts,
    Guideline,
    Interaction,
    InteractionEvent,
    SessionState,
    Snapshot,
)
from tests.engine.fakes import FakeClock, FakeToolRunner, NeverCancelled, RecordingEmitter
from tests.support.local_llm import MODEL_ALIAS, LocalLLMServer, LocalLLMUnavailable, local_llm_server_start

REQUIRE_ENV = "DECORUM_REQUIRE_LOCAL_LLM"
# llama.cpp's repeat penalty looks back 64 tokens by default: shorter than one verdict, so the 135M model
# can repeat whole JSON objects until the grammar's bounds. A longer window makes it move on.
LOCAL_REPEAT_WINDOW = 1024


class TripPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str
    transport: Literal["train", "plane", "bus"]
    nights: int
    with_luggage: bool
    activities: list[str]


@pytest.fixture(scope="session")
def local_llm_server() -> Iterator[LocalLLMServer]:
    try:
        server = local_llm_server_start(repeat_window=LOCAL_REPEAT_WINDOW)
    except LocalLLMUnavailable as unavailable:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the local model server cannot run: {unavailable}")
        pytest.skip(f"local model smoke test skipped: {unavailable}")
    yield server
    server.stop()


@pytest.fixture
async def local_llm(local_llm_server: LocalLLMServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAILLM]:
    """The adapter an agent with `llm_profile: local` gets: llama.cpp needs the json_object mode."""
    monkeypatch.setenv("LLM_PROFILE_LOCAL_BASE_URL", local_llm_server.base_url)
    monkeypatch.setenv("LLM_PROFILE_LOCAL_API_KEY", "local")
    monkeypatch.setenv("LLM_PROFILE_LOCAL_STRUCTURED_OUTPUT", "json_object")
    monkeypatch.setenv("LLM_PROFILE_LOCAL_TIMEOUT_SECONDS", "150")
    monkeypatch.setenv("LLM_PROFILE_LOCAL_MAX_RETRIES", "0")
    llm = llm_for_agent(model=MODEL_ALIAS, profile="local")
    assert isinstance(llm, OpenAILLM)
    assert llm.structured_output == "json_object"
    yield llm
    await llm.aclose()


def _request(purpose: str, system: str, user: str, *, max_tokens: int | None = None) -> LLMRequest:
    return LLMRequest(
        purpose=purpose,
        model=MODEL_ALIAS,
        messages=(LLMMessage("system", system), LLMMessage("user", user)),
        temperature=0.0,
        max_tokens=max_tokens,
    )


def test_grammar_bounds_cap_free_strings_and_lists_but_keep_what_the_schema_sets() -> None:
    schema = SinglePassReply.model_json_schema()
    schema["properties"]["reply"]["maxLength"] = 99

    bounded = grammar_bounded(schema)

    assert bounded["properties"]["verdicts"]["maxItems"] == GRAMMAR_MAX_ITEMS
    assert bounded["properties"]["followed"]["maxItems"] == GRAMMAR_MAX_ITEMS
    assert bounded["properties"]["followed"]["items"]["maxLength"] == GRAMMAR_MAX_STRING_CHARS
    assert bounded["properties"]["reply"]["maxLength"] == 99
    verdict = bounded["$defs"]["GuidelineVerdict"]["properties"]
    assert verdict["rationale"]["maxLength"] == GRAMMAR_MAX_STRING_CHARS
    assert verdict["tool_calls"]["maxItems"] == GRAMMAR_MAX_NESTED_ITEMS
    assert "maxLength" not in verdict["applies"]
    assert "maxItems" not in schema["properties"]["verdicts"]  # the caller's schema is not changed


def test_grammar_bounds_leave_enums_alone() -> None:
    bounded = grammar_bounded(TripPlan.model_json_schema())

    assert bounded["properties"]["transport"] == {
        "enum": ["train", "plane", "bus"],
        "title": "Transport",
        "type": "string",
    }
    assert bounded["properties"]["city"]["maxLength"] == GRAMMAR_MAX_STRING_CHARS


@pytest.mark.local_llm
async def test_the_local_model_returns_schema_valid_json_with_real_token_usage(local_llm: OpenAILLM) -> None:
    result = await local_llm.generate(
        _request("smoke", "You plan short trips.", "Plan a weekend in Paris by train with a suitcase."), TripPlan
    )

    assert isinstance(result.value, TripPlan)
    assert result.value.transport in ("train", "plane", "bus")
    assert result.record.error is None
    # Usage as counted by llama.cpp (a non-streamed completion reports it), not an estimate.
    assert result.record.prompt_tokens > 20
    assert result.record.completion_tokens > 5
    assert result.record.model == MODEL_ALIAS


@pytest.mark.local_llm
async def test_the_local_model_streams_text_in_several_chunks(local_llm: OpenAILLM) -> None:
    stream = local_llm.stream(
        _request("composition", "You are a friendly assistant.", "Write two sentences about trains.", max_tokens=48)
    )

    chunks = [chunk async for chunk in stream]

    assert len(chunks) >= 3
    assert "".join(chunks).strip()
    assert stream.record is not None and stream.record.error is None
    assert stream.record.completion_tokens > 0


@pytest.mark.local_llm
async def test_one_full_engine_turn_against_the_local_model_ends_with_an_agent_reply(local_llm: OpenAILLM) -> None:
    snapshot = Snapshot(
        agent=AgentSettings(
            name="Skyway Support",
            description="You help Skyway Airlines customers with their trips. Keep answers short.",
            model=MODEL_ALIAS,
            temperature=0.0,  # greedy decoding: the tiny model stays on a short, reproducible path
            llm_profile="local",
        ),
        guidelines=(
            Guideline(key="greeting", condition="The customer says hello", action="Greet the customer by name"),
            Guideline(
                key="baggage-allowance",
                condition="The customer asks how much baggage they can bring",
                action="Say that one cabin bag up to 8 kg is included",
            ),
        ),
    )
    interaction = Interaction(
        session_id="local-smoke",
        customer=CustomerInfo(id="customer-1", name="Alex"),
        events=(InteractionEvent(offset=0, source="customer", text="Hello! How much baggage can I bring?"),),
    )
    emitter = RecordingEmitter()
    tools = FakeToolRunner()
    ports = EnginePorts(
        llm=local_llm,
        embedder=HashingEmbedder(),
        tools=tools,
        emitter=emitter,
        clock=FakeClock(),
        cancellation=NeverCancelled(),
    )

    result = await run_turn(
        snapshot=snapshot,
        interaction=interaction,
        state=SessionState(),
        ports=ports,
        config=EngineConfig(applied_analysis="assume"),
    )

    assert result.outcome == "replied", result.trace["errors"]
    reply = result.messages[-1]
    assert reply.text.strip()
    assert not reply.data.get("fallback")
    assert emitter.replies[-1]["text"] == reply.text
    assert tools.calls == []
    calls = result.trace["llm_calls"]
    assert calls and all(call["error"] is None for call in calls)
    assert all(call["prompt_tokens"] > 0 and call["completion_tokens"] > 0 for call in calls)
    assert result.trace["errors"] == []
