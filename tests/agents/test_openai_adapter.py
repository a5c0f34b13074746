"""The OpenAI adapter, driven through the real `openai` client against the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from agents.llm import (
    NOT_CONFIGURED_MESSAGE,
    LLMNotConfiguredError,
    OpenAILLM,
    UnconfiguredLLM,
    llm_configuration_status,
    llm_for_agent,
)
from agents.llm.strict_schema import strict_json_schema
from behavior.engine.ports import (
    LLMError,
    LLMMessage,
    LLMRequest,
    LLMTimeoutError,
    LLMValidationError,
)
from config.env import ConfigurationError
from tests.support.fake_openai_server import FakeOpenAIServer, LatencyModel, prompt_tokens


class Evidence(BaseModel):
    quote: str = Field(description="the customer's words", max_length=80)


class Verdict(BaseModel):
    relevant_fact: str
    rationale: str
    applies: bool
    confidence: Literal["low", "medium", "high"] = "medium"
    score: int = Field(default=0, ge=0, le=10)
    evidence: list[Evidence] = Field(default_factory=list)
    note: str | None = None


REQUEST = LLMRequest(
    purpose="matching",
    model="gpt-test-1",
    messages=(
        LLMMessage(role="system", content="You judge whether guidelines apply."),
        LLMMessage(role="user", content="I want to return my shoes"),
    ),
)


@pytest.fixture
async def llm(fake_openai_server: FakeOpenAIServer) -> AsyncIterator[OpenAILLM]:
    adapter = OpenAILLM(
        api_key="sk-test",
        base_url=fake_openai_server.base_url,
        timeout_seconds=2.0,
        max_retries=3,
        initial_backoff_seconds=0.01,
        max_backoff_seconds=0.05,
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
def llm_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Nothing configured: no key, no base URL, no profiles."""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    settings.OPENAI_MAX_RETRIES = 1
    settings.DEFAULT_LLM_MODEL = "default-model"
    for variable in list(os.environ):
        if variable.startswith("LLM_PROFILE_") or variable == "OPENAI_STRUCTURED_OUTPUT":
            monkeypatch.delenv(variable)
    return settings


# ---------------------------------------------------------------------- structured output


async def test_it_returns_a_validated_instance_and_records_the_servers_usage(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    result = await llm.generate(REQUEST, Verdict)

    assert isinstance(result.value, Verdict)
    assert result.value.applies is True
    assert result.value.confidence == "low"  # the fake answers enums with their first value
    assert "return my shoes" in result.value.relevant_fact
    [sent] = fake_openai_server.chat_requests()
    body = sent["body"]
    assert body["model"] == "gpt-test-1"
    assert sent["headers"]["authorization"] == "Bearer sk-test"
    assert result.record.purpose == "matching"
    assert result.record.model == "gpt-test-1"
    assert result.record.prompt_tokens == prompt_tokens(body)
    assert result.record.completion_tokens > 0
    assert result.record.retries == 0
    assert result.record.error is None
    assert result.record.latency_ms > 0


async def test_it_sends_a_strict_json_schema_with_every_property_required(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    await llm.generate(REQUEST, Verdict)

    response_format = fake_openai_server.chat_requests()[0]["body"]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Verdict"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(Verdict.model_fields)
    assert "default" not in schema["properties"]["score"]
    evidence = schema["$defs"]["Evidence"]
    assert evidence["additionalProperties"] is False
    assert evidence["required"] == ["quote"]


def test_a_schema_with_a_free_form_map_is_sent_without_strict_mode() -> None:
    class Loose(BaseModel):
        arguments: dict[str, str]

    schema, strict = strict_json_schema(Loose)

    assert strict is False
    assert schema["properties"]["arguments"]["additionalProperties"] == {"type": "string"}


def test_a_described_reference_is_inlined_for_strict_mode() -> None:
    class Outer(BaseModel):
        evidence: Evidence = Field(description="why")

    schema, strict = strict_json_schema(Outer)

    assert strict is True
    evidence = schema["properties"]["evidence"]
    assert "$ref" not in evidence
    assert evidence["description"] == "why"
    assert evidence["additionalProperties"] is False


async def test_json_object_mode_puts_the_schema_in_the_prompt_and_the_response_format(
    fake_openai_server: FakeOpenAIServer,
) -> None:
    adapter = OpenAILLM(api_key="", base_url=fake_openai_server.base_url, structured_output="json_object")
    try:
        result = await adapter.generate(REQUEST, Verdict)
    finally:
        await adapter.aclose()

    assert isinstance(result.value, Verdict)
    body = fake_openai_server.chat_requests()[0]["body"]
    assert body["response_format"]["type"] == "json_object"
    assert body["response_format"]["schema"]["required"] == list(Verdict.model_fields)
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"].startswith("You judge whether guidelines apply.")
    assert '"relevant_fact"' in body["messages"][0]["content"]


async def test_a_reply_wrapped_in_a_code_fence_still_validates(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"content": '```json\n{"relevant_fact": "f", "rationale": "r", "applies": false}\n```'}])

    result = await llm.generate(REQUEST, Verdict)

    assert result.value.applies is False
    assert result.record.retries == 0


# ---------------------------------------------------------------------- streaming


async def test_it_streams_text_in_chunks_and_records_usage(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    stream = llm.stream(REQUEST)
    assert stream.record is None

    chunks = [chunk async for chunk in stream]

    assert len(chunks) > 5
    assert "return my shoes" in "".join(chunks)
    body = fake_openai_server.chat_requests()[0]["body"]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert stream.record is not None
    assert stream.record.prompt_tokens == prompt_tokens(body)
    assert stream.record.completion_tokens == (len("".join(chunks)) + 3) // 4
    assert stream.record.retries == 0
    with pytest.raises(RuntimeError):
        stream.__aiter__()


async def test_a_stream_failing_before_its_first_chunk_is_retried(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"status": 503}])

    stream = llm.stream(REQUEST)
    text = "".join([chunk async for chunk in stream])

    assert "return my shoes" in text
    assert len(fake_openai_server.chat_requests()) == 2
    assert stream.record is not None and stream.record.retries == 1


async def test_a_stream_abandoned_by_its_consumer_still_has_a_record(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    stream = llm.stream(REQUEST)
    iterator = stream.__aiter__()
    first = await iterator.__anext__()
    await iterator.aclose()  # type: ignore[attr-defined]

    assert first
    assert stream.record is not None
    assert stream.record.error is None


async def test_a_structured_call_with_on_text_streams_its_json_as_it_arrives(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    pieces: list[str] = []

    async def on_text(text: str) -> None:
        pieces.append(text)

    result = await llm.generate(REQUEST, Verdict, on_text=on_text)

    assert len(pieces) > 5
    assert Verdict.model_validate_json("".join(pieces)) == result.value
    body = fake_openai_server.chat_requests()[0]["body"]
    assert body["stream"] is True and body["response_format"]["type"] == "json_schema"
    assert result.record.prompt_tokens == prompt_tokens(body)
    assert result.record.completion_tokens > 0


async def test_a_streamed_structured_reply_that_fails_validation_is_reasked_without_streaming(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"malformed": True}])
    pieces: list[str] = []

    async def on_text(text: str) -> None:
        pieces.append(text)

    result = await llm.generate(REQUEST, Verdict, on_text=on_text)

    first, second = fake_openai_server.chat_requests()
    assert first["body"]["stream"] is True and "stream" not in second["body"]
    assert "".join(pieces).startswith('{"this reply": is not valid JSON')  # only the first attempt streamed
    assert isinstance(result.value, Verdict) and result.record.retries == 1


async def test_a_structured_stream_that_stalls_after_its_first_chunk_is_not_retried() -> None:
    slow_pieces = LatencyModel(ms_per_10_completion_tokens=4000)
    with FakeOpenAIServer(host="127.0.0.1", port=0, latency=slow_pieces) as server:
        adapter = OpenAILLM(
            api_key="sk-test",
            base_url=server.base_url,
            timeout_seconds=0.5,
            max_retries=3,
            initial_backoff_seconds=0.01,
        )
        pieces: list[str] = []

        async def on_text(text: str) -> None:
            pieces.append(text)

        with pytest.raises(LLMTimeoutError):
            try:
                await adapter.generate(REQUEST, Verdict, on_text=on_text)
            finally:
                await adapter.aclose()

        assert pieces  # part of the reply went out, so a retry would have sent it twice
        assert len(server.chat_requests()) == 1


# ---------------------------------------------------------------------- retries


async def test_it_retries_after_a_429_and_a_500_then_succeeds(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"status": 429, "retry_after": 0.2}, {"status": 500}])
    started = time.monotonic()

    result = await llm.generate(REQUEST, Verdict)

    assert time.monotonic() - started >= 0.2  # Retry-After was respected
    assert isinstance(result.value, Verdict)
    assert result.record.retries == 2
    assert len(fake_openai_server.chat_requests()) == 3


async def test_it_gives_up_after_its_bounded_retries_on_persistent_server_errors(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"status": 502, "times": 5}])

    with pytest.raises(LLMError) as raised:
        await llm.generate(REQUEST, Verdict)

    assert not isinstance(raised.value, LLMTimeoutError)
    assert "HTTP 502" in str(raised.value)
    assert len(fake_openai_server.chat_requests()) == 4  # the first attempt and max_retries=3
    record = raised.value.record  # type: ignore[attr-defined]
    assert record.retries == 3
    assert "HTTP 502" in record.error


async def test_it_does_not_retry_a_rejected_request(llm: OpenAILLM, fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script([{"status": 400, "message": "response_format is not supported"}])

    with pytest.raises(LLMError) as raised:
        await llm.generate(REQUEST, Verdict)

    assert "json_object" in str(raised.value)  # the hint for servers without json_schema
    assert len(fake_openai_server.chat_requests()) == 1


async def test_it_does_not_wait_for_a_retry_after_beyond_its_bound(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"status": 429, "retry_after": 600}])
    started = time.monotonic()

    with pytest.raises(LLMError, match="HTTP 429"):
        await llm.generate(REQUEST, Verdict)

    assert time.monotonic() - started < 2
    assert len(fake_openai_server.chat_requests()) == 1


async def test_a_slow_server_raises_llm_timeout_error_after_retries(fake_openai_server: FakeOpenAIServer) -> None:
    adapter = OpenAILLM(
        api_key="sk-test",
        base_url=fake_openai_server.base_url,
        timeout_seconds=0.3,
        max_retries=1,
        initial_backoff_seconds=0.01,
    )
    fake_openai_server.script([{"delay": 3}, {"delay": 3}])
    started = time.monotonic()

    with pytest.raises(LLMTimeoutError) as raised:
        try:
            await adapter.generate(REQUEST, Verdict)
        finally:
            await adapter.aclose()

    assert time.monotonic() - started < 2
    assert len(fake_openai_server.chat_requests()) == 2
    assert raised.value.record.retries == 1  # type: ignore[attr-defined]


async def test_an_unreachable_server_raises_llm_error_after_retries() -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = OpenAILLM(
        api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, initial_backoff_seconds=0.01
    )

    with pytest.raises(LLMError, match="could not reach") as raised:
        await adapter.generate(REQUEST, Verdict)

    assert raised.value.record.retries == 2  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- validation re-asks


async def test_a_malformed_reply_is_reasked_with_the_error_then_succeeds(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"malformed": True}])

    result = await llm.generate(REQUEST, Verdict)

    assert isinstance(result.value, Verdict)
    assert result.record.retries == 1
    first, second = fake_openai_server.chat_requests()
    reask = second["body"]["messages"]
    assert reask[: len(first["body"]["messages"])] == first["body"]["messages"]
    assert reask[-2]["role"] == "assistant"
    assert reask[-2]["content"].startswith('{"this reply": is not valid JSON')
    assert reask[-1]["role"] == "user"
    assert "Invalid JSON" in reask[-1]["content"]
    assert result.record.prompt_tokens == prompt_tokens(first["body"]) + prompt_tokens(second["body"])


async def test_a_reply_failing_the_schema_names_the_missing_field_in_the_reask(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"invalid": True}])

    result = await llm.generate(REQUEST, Verdict)

    assert result.record.retries == 1
    reask = fake_openai_server.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "relevant_fact: Field required" in reask


async def test_three_invalid_replies_raise_llm_validation_error(
    llm: OpenAILLM, fake_openai_server: FakeOpenAIServer
) -> None:
    fake_openai_server.script([{"invalid": True}, {"malformed": True}, {"content": '{"applies": "maybe"}'}])

    with pytest.raises(LLMValidationError) as raised:
        await llm.generate(REQUEST, Verdict)

    assert "after 3 attempts" in str(raised.value)
    assert "applies" in str(raised.value)  # the last error is the one reported
    assert len(fake_openai_server.chat_requests()) == 3
    record = raised.value.record  # type: ignore[attr-defined]
    assert record.retries == 2
    assert record.completion_tokens > 0
    assert record.error == str(raised.value)


# ---------------------------------------------------------------------- concurrency


async def test_concurrent_calls_share_the_client_and_overlap() -> None:
    slow = FakeOpenAIServer(latency=LatencyModel(base_ms=300)).start()
    adapter = OpenAILLM(api_key="k", base_url=slow.base_url)
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(adapter.generate(REQUEST, Verdict) for _ in range(20)))
        elapsed = time.monotonic() - started
    finally:
        await adapter.aclose()
        slow.stop()

    assert len(results) == 20
    assert elapsed < 2.0  # 20 x 300 ms in sequence would be 6 s


def test_one_adapter_serves_successive_event_loops(fake_openai_server: FakeOpenAIServer) -> None:
    adapter = OpenAILLM(api_key="k", base_url=fake_openai_server.base_url)

    first = asyncio.run(adapter.generate(REQUEST, Verdict))  # a Celery task's loop, closed afterwards
    second = asyncio.run(adapter.generate(REQUEST, Verdict))  # the next task's loop

    assert first.value == second.value
    assert len(fake_openai_server.chat_requests()) == 2
    assert len(adapter._clients) == 1  # the closed loop's client was dropped


# ---------------------------------------------------------------------- factory


async def test_with_nothing_configured_calls_fail_with_the_clear_message(llm_settings: Any) -> None:
    llm = llm_for_agent(model="gpt-test-1", profile="")

    assert isinstance(llm, UnconfiguredLLM)
    with pytest.raises(LLMNotConfiguredError) as raised:
        await llm.generate(REQUEST, Verdict)
    assert str(raised.value) == NOT_CONFIGURED_MESSAGE
    assert str(raised.value) == ("No language model is configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL)")
    stream = llm.stream(REQUEST)
    with pytest.raises(LLMNotConfiguredError):
        async for _chunk in stream:
            pass
    assert stream.record is not None and stream.record.error == NOT_CONFIGURED_MESSAGE
    status = llm_configuration_status()
    assert status["configured"] is False
    assert status["message"] == NOT_CONFIGURED_MESSAGE


async def test_the_default_profile_uses_the_openai_settings_and_the_agents_model(
    llm_settings: Any, fake_openai_server: FakeOpenAIServer
) -> None:
    llm_settings.OPENAI_API_KEY = "sk-settings"
    llm_settings.OPENAI_BASE_URL = fake_openai_server.base_url

    llm = llm_for_agent(model="agent-model", profile="default")
    assert isinstance(llm, OpenAILLM)
    await llm.generate(LLMRequest(purpose="journey", model="", messages=REQUEST.messages), Verdict)
    await llm.generate(REQUEST, Verdict)

    first, second = fake_openai_server.chat_requests()
    assert first["headers"]["authorization"] == "Bearer sk-settings"
    assert first["body"]["model"] == "agent-model"  # the request named no model
    assert second["body"]["model"] == "gpt-test-1"  # the request's model wins
    assert llm.max_retries == 1 and llm.timeout_seconds == 2.0
    assert llm_for_agent(model="agent-model", profile="") is llm  # one adapter (and pool) per endpoint and model
    status = llm_configuration_status()
    assert status["configured"] is True
    assert "sk-settings" not in str(status)
    await llm.aclose()


async def test_a_named_profile_selects_its_own_server_key_and_structured_output_mode(
    llm_settings: Any, fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_settings.OPENAI_API_KEY = "sk-default"
    monkeypatch.setenv("LLM_PROFILE_LOCAL_BASE_URL", fake_openai_server.base_url)
    monkeypatch.setenv("LLM_PROFILE_LOCAL_API_KEY", "local-key")
    monkeypatch.setenv("LLM_PROFILE_LOCAL_STRUCTURED_OUTPUT", "json_object")

    llm = llm_for_agent(model="smollm2", profile="Local")
    assert isinstance(llm, OpenAILLM)
    assert llm.profile == "local"
    result = await llm.generate(REQUEST, Verdict)
    await llm.aclose()

    assert isinstance(result.value, Verdict)
    [sent] = fake_openai_server.chat_requests()
    assert sent["headers"]["authorization"] == "Bearer local-key"
    assert sent["body"]["response_format"]["type"] == "json_object"
    status = llm_configuration_status(profile="local")
    assert status["configured"] is True
    assert status["message"] == f"Language model server: {fake_openai_server.base_url}"
    assert "local-key" not in str(status)
    profiles = status["profiles"]
    assert profiles["local"]["configured"] is True
    assert profiles["local"]["structured_output"] == "json_object"
    assert profiles["default"]["server"] == "api.openai.com"


def test_an_unknown_profile_gives_an_unconfigured_llm_naming_what_to_set(llm_settings: Any) -> None:
    llm_settings.OPENAI_API_KEY = "sk-default"

    llm = llm_for_agent(model="m", profile="GPU-box")

    assert isinstance(llm, UnconfiguredLLM)
    assert "LLM_PROFILE_GPU_BOX_BASE_URL" in llm.message
    status = llm_configuration_status(profile="gpu_box")
    assert status["configured"] is False
    assert status["message"] == llm.message
    assert llm_configuration_status()["configured"] is True  # the default server is configured


def test_an_invalid_profile_name_gives_an_unconfigured_llm(llm_settings: Any) -> None:
    llm = llm_for_agent(model="m", profile="../etc")

    assert isinstance(llm, UnconfiguredLLM)
    assert "not a valid name" in llm.message


def test_a_malformed_profile_url_fails_loudly(llm_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROFILE_LOCAL_BASE_URL", "localhost:8080")

    with pytest.raises(ConfigurationError, match="LLM_PROFILE_LOCAL_BASE_URL"):
        llm_for_agent(model="m", profile="local")
    assert llm_configuration_status()["profiles"]["local"]["configured"] is False
