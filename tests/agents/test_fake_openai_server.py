"""The fake OpenAI-compatible server itself: what tests, end-to-end runs and benchmarks rely on."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import math
import os
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import openai
import pytest
from pydantic import BaseModel, Field

from tests.support.fake_openai_server import FakeOpenAIServer, LatencyModel, responder_from_path
from tests.support.schema_instances import schema_instance

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def client_for(server: FakeOpenAIServer, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, **options)


def post(server: FakeOpenAIServer, path: str, payload: Any) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{server.url}{path}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


class Priority(Enum):
    URGENT = "urgent"
    NORMAL = "normal"


class Step(BaseModel):
    name: str = Field(max_length=12)
    position: int = Field(ge=3, le=9)


class Plan(BaseModel):
    summary: str
    priority: Priority
    mode: Literal["advance", "stay"]
    fixed: Literal["always"]
    steps: list[Step] = Field(min_length=2)
    weight: float = Field(gt=0.5, lt=2)
    due: date
    maybe: Step | None = None
    done: bool = False
    tags: dict[str, str] = Field(default_factory=dict)


def json_schema_format(model: type[BaseModel]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": model.__name__, "schema": model.model_json_schema()}}


# ---------------------------------------------------------------------- chat completions


def test_a_json_schema_request_gets_content_that_validates_against_the_schema(
    fake_openai_server: FakeOpenAIServer,
) -> None:
    completion = client_for(fake_openai_server).chat.completions.create(
        model="fake-model", messages=MESSAGES, response_format=json_schema_format(Plan)
    )

    plan = Plan.model_validate_json(completion.choices[0].message.content or "")
    assert plan.priority is Priority.URGENT
    assert plan.mode == "advance"
    assert len(plan.steps) == 2
    assert "Where is my parcel?" in plan.summary
    assert completion.usage is not None
    assert completion.usage.completion_tokens == math.ceil(len(completion.choices[0].message.content or "") / 4)
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_schema_instances_honour_references_bounds_and_formats() -> None:
    instance = schema_instance(Plan.model_json_schema(), hint="a very long customer message " * 5)

    plan = Plan.model_validate(instance)
    assert all(3 <= step.position <= 9 and len(step.name) <= 12 for step in plan.steps)
    assert 0.5 < plan.weight < 2
    assert plan.done is True
    assert plan.fixed == "always"


def test_a_plain_request_gets_a_polite_reply_quoting_the_customer(fake_openai_server: FakeOpenAIServer) -> None:
    completion = client_for(fake_openai_server).chat.completions.create(model="fake-model", messages=MESSAGES)

    assert "Where is my parcel?" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "fake-model"


def test_a_streamed_request_gets_sse_chunks_then_a_usage_chunk(fake_openai_server: FakeOpenAIServer) -> None:
    stream = client_for(fake_openai_server).chat.completions.create(
        model="fake-model", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "Where is my parcel?" in text
    assert sum(1 for chunk in chunks if chunk.choices and chunk.choices[0].delta.content) > 5
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == math.ceil(len(text) / 4)


def test_max_tokens_truncates_a_plain_reply(fake_openai_server: FakeOpenAIServer) -> None:
    completion = client_for(fake_openai_server).chat.completions.create(
        model="fake-model", messages=MESSAGES, max_tokens=3
    )

    assert len(completion.choices[0].message.content or "") == 12
    assert completion.choices[0].finish_reason == "length"


def test_a_request_without_messages_is_rejected(fake_openai_server: FakeOpenAIServer) -> None:
    status, _headers, body = post(fake_openai_server, "/v1/chat/completions", {"model": "fake-model"})

    assert status == 400
    assert body["error"]["param"] == "messages"


def test_an_oversized_body_is_refused_before_it_is_read(fake_openai_server: FakeOpenAIServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", fake_openai_server.port, timeout=5)
    connection.putrequest("POST", "/v1/chat/completions")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(9 * 1024 * 1024))
    connection.endheaders()  # the body is never sent: the server must answer from the headers alone

    response = connection.getresponse()

    assert response.status == 413
    assert "at most" in json.loads(response.read())["error"]["message"]
    connection.close()


def test_a_required_api_key_is_enforced() -> None:
    with FakeOpenAIServer(api_key="right") as server:
        with pytest.raises(openai.AuthenticationError):
            client_for(server).chat.completions.create(model="fake-model", messages=MESSAGES)
        good = openai.OpenAI(api_key="right", base_url=server.base_url, max_retries=0)
        assert good.chat.completions.create(model="fake-model", messages=MESSAGES).choices


# ---------------------------------------------------------------------- scripting


def test_scripted_outcomes_over_http_are_served_in_order(fake_openai_server: FakeOpenAIServer) -> None:
    status, _headers, body = post(
        fake_openai_server,
        "/_control/script",
        {
            "outcomes": [
                {"status": 429, "retry_after": 1.5},
                {"status": 500, "message": "boom"},
                {"content": "scripted words"},
                {"malformed": True},
            ]
        },
    )
    assert (status, body["pending"]) == (200, 4)
    client = client_for(fake_openai_server)

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert limited.value.response.headers["retry-after"] == "2"
    assert limited.value.response.headers["retry-after-ms"] == "1500"
    with pytest.raises(openai.InternalServerError, match="boom"):
        client.chat.completions.create(model="fake-model", messages=MESSAGES)
    scripted = client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert scripted.choices[0].message.content == "scripted words"
    malformed = client.chat.completions.create(
        model="fake-model", messages=MESSAGES, response_format=json_schema_format(Plan)
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.choices[0].message.content or "")
    assert fake_openai_server.pending_outcomes == 0
    assert len(fake_openai_server.chat_requests()) == 4


def test_an_invalid_outcome_is_refused_with_400(fake_openai_server: FakeOpenAIServer) -> None:
    status, _headers, body = post(fake_openai_server, "/_control/script", {"outcomes": [{"status": 200}]})

    assert status == 400
    assert "status" in body["error"]["message"]
    assert fake_openai_server.pending_outcomes == 0


def test_an_invalid_outcome_gives_json_that_fails_the_schema(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script([{"invalid": True}])

    completion = client_for(fake_openai_server).chat.completions.create(
        model="fake-model", messages=MESSAGES, response_format=json_schema_format(Step)
    )

    reply = json.loads(completion.choices[0].message.content or "")
    assert "name" not in reply
    with pytest.raises(ValueError):
        Step.model_validate(reply)


def test_a_scripted_delay_makes_the_client_time_out(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script([{"delay": 2}])
    started = time.monotonic()

    with pytest.raises(openai.APITimeoutError):
        client_for(fake_openai_server, timeout=0.2).chat.completions.create(model="fake-model", messages=MESSAGES)

    assert time.monotonic() - started < 1.5


def test_reset_forgets_the_script_and_the_request_log(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script([{"status": 500, "times": 3}])
    client_for(fake_openai_server).models.list()

    status, _headers, _body = post(fake_openai_server, "/_control/reset", {})

    assert status == 200
    assert fake_openai_server.pending_outcomes == 0
    assert fake_openai_server.requests == []


# ---------------------------------------------------------------------- responder hook


def keyword_responder(request: dict[str, Any]) -> str | None:
    last = request["messages"][-1]["content"]
    return '{"name": "refund", "position": 4}' if "refund" in last else None


def test_a_responder_answers_and_none_falls_back_to_the_default() -> None:
    with FakeOpenAIServer(responder=keyword_responder) as server:
        client = client_for(server)
        refund = client.chat.completions.create(
            model="fake-model",
            messages=[{"role": "user", "content": "I want a refund"}],
            response_format=json_schema_format(Step),
        )
        other = client.chat.completions.create(
            model="fake-model", messages=MESSAGES, response_format=json_schema_format(Step)
        )

    assert Step.model_validate_json(refund.choices[0].message.content or "").name == "refund"
    assert Step.model_validate_json(other.choices[0].message.content or "").position == 3


def test_a_failing_responder_answers_500_with_its_error() -> None:
    def broken(_request: dict[str, Any]) -> str | None:
        raise RuntimeError("responder bug")

    with FakeOpenAIServer(responder=broken) as server:
        with pytest.raises(openai.InternalServerError, match="responder bug"):
            client_for(server).chat.completions.create(model="fake-model", messages=MESSAGES)


def test_a_responder_is_loaded_from_a_module_path() -> None:
    responder = responder_from_path("tests.agents.test_fake_openai_server:keyword_responder")

    assert responder({"messages": [{"role": "user", "content": "refund please"}]}) is not None
    with pytest.raises(ValueError):
        responder_from_path("no_colon_here")


# ---------------------------------------------------------------------- embeddings and models


def test_embeddings_are_deterministic_unit_vectors_with_related_texts_closer(
    fake_openai_server: FakeOpenAIServer,
) -> None:
    client = client_for(fake_openai_server)
    texts = ["refund my order", "please refund my order", "the weather is nice"]

    first = [item.embedding for item in client.embeddings.create(model="emb", input=texts).data]
    again = client.embeddings.create(model="emb", input=texts[0], dimensions=64).data[0].embedding

    assert len(first[0]) == 256 and len(again) == 64
    assert first == [item.embedding for item in client.embeddings.create(model="emb", input=texts).data]
    assert all(abs(math.fsum(x * x for x in vector) - 1) < 1e-5 for vector in first)  # float32 on the wire

    def cosine(a: list[float], b: list[float]) -> float:
        return math.fsum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(first[0], first[1]) > cosine(first[0], first[2])


def test_embeddings_can_be_returned_as_base64(fake_openai_server: FakeOpenAIServer) -> None:
    status, _headers, body = post(
        fake_openai_server, "/v1/embeddings", {"model": "emb", "input": ["hi"], "encoding_format": "base64"}
    )

    assert status == 200
    decoded = struct.unpack("<256f", base64.b64decode(body["data"][0]["embedding"]))
    assert abs(math.fsum(x * x for x in decoded) - 1) < 1e-5


def test_scripted_outcomes_can_target_embeddings(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script([{"status": 503, "endpoint": "embeddings"}])
    client = client_for(fake_openai_server)

    assert client.chat.completions.create(model="fake-model", messages=MESSAGES).choices
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="emb", input="hi")


def test_models_are_listed(fake_openai_server: FakeOpenAIServer) -> None:
    assert [model.id for model in client_for(fake_openai_server).models.list()] == ["fake-model"]


# ---------------------------------------------------------------------- latency and concurrency


def test_the_latency_model_delays_replies_and_the_first_streamed_token() -> None:
    latency = LatencyModel(base_ms=150, ms_per_100_prompt_tokens=0, ms_per_10_completion_tokens=100)
    with FakeOpenAIServer(latency=latency) as server:
        client = client_for(server)
        started = time.monotonic()
        completion = client.chat.completions.create(model="fake-model", messages=MESSAGES)
        elapsed = time.monotonic() - started
        expected = 0.150 + (completion.usage.completion_tokens if completion.usage else 0) * 0.010
        started = time.monotonic()
        stream = client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        first_token_at = next(
            time.monotonic() - started for chunk in stream if chunk.choices and chunk.choices[0].delta.content
        )

    assert expected <= elapsed < expected + 0.5
    assert 0.15 <= first_token_at < expected - 0.1  # the first token comes before the completion time


async def test_concurrent_requests_are_served_in_parallel() -> None:
    with FakeOpenAIServer(latency=LatencyModel(base_ms=300)) as server:
        client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0)
        started = time.monotonic()
        replies = await asyncio.gather(
            *(client.chat.completions.create(model="fake-model", messages=MESSAGES) for _ in range(100))
        )
        elapsed = time.monotonic() - started
        await client.close()

    assert len(replies) == 100
    assert elapsed < 2.5  # 100 x 300 ms in sequence would be 30 s


# ---------------------------------------------------------------------- command line


def test_the_command_line_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai_server", "--port", "0", "--model", "cli-model"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("fake OpenAI server listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        models = openai.OpenAI(api_key="k", base_url=base_url, max_retries=0).models.list()
        assert [model.id for model in models] == ["cli-model"]
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
