"""The two ways to plug `engine_reply` in: `HeuristicLLM`, the engine's LLM port in process (with an optional
latency model, for benches), and `openai_responder`, the fake OpenAI server's responder hook."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from behavior.engine.ports import LLMCallRecord, LLMRequest, LLMValidationError, SchemaT, StructuredResult, TextSink
from behavior.engine.prompts.sections import estimate_tokens
from behavior.engine.schemas import SCHEMAS_BY_PURPOSE
from behavior.evaluations.simulation import JUDGE_PURPOSE, SIMULATION_PURPOSE, JudgeVerdict, SimulatedCustomerTurn
from tests.support.engine_responder.answers import engine_reply
from tests.support.fake_openai_replies import LatencyModel, message_text, response_schema
from tests.support.json_pieces import stream_json

# The adapter names a structured request's json_schema after the pydantic class (agents/llm/strict_schema.py);
# in json_object mode the schema's own "title" carries the same name. "reevaluation" answers like "matching".
PURPOSE_BY_SCHEMA_NAME: dict[str, str] = {}
for _purpose, _classes in SCHEMAS_BY_PURPOSE.items():
    for _class in _classes:
        PURPOSE_BY_SCHEMA_NAME.setdefault(_class.__name__, _purpose)
PURPOSE_BY_SCHEMA_NAME[SimulatedCustomerTurn.__name__] = SIMULATION_PURPOSE
PURPOSE_BY_SCHEMA_NAME[JudgeVerdict.__name__] = JUDGE_PURPOSE
COMPOSITION_CUE = "Write the agent's next message now"


@functools.lru_cache(maxsize=32)
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


class HeuristicTextStream:
    def __init__(self, llm: HeuristicLLM, request: LLMRequest) -> None:
        self.record: LLMCallRecord | None = None
        self._llm, self._request = llm, request

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        llm, request = self._llm, self._request
        started = time.perf_counter()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        text = str(engine_reply(purpose=request.purpose, messages=messages, schema=None))
        prompt_tokens = sum(estimate_tokens(m.content) for m in request.messages)
        words = text.split(" ")
        pieces = [" ".join(words[i : i + llm.chunk_words]) + " " for i in range(0, len(words), llm.chunk_words)]
        pieces[-1] = pieces[-1].rstrip()
        sent = 0
        try:
            await llm.wait(llm.latency.first_token_seconds(prompt_tokens))
            for piece in pieces:
                await llm.wait(llm.latency.completion_seconds(estimate_tokens(piece)))
                sent += len(piece)
                yield piece
        finally:  # also when the consumer stops early (a superseded turn): the call still counts
            self.record = LLMCallRecord(
                purpose=request.purpose,
                model=request.model or llm.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=estimate_tokens(text[:sent]),
                latency_ms=(time.perf_counter() - started) * 1000,
            )


class HeuristicLLM:
    """The engine's `LLM` port answered by `engine_reply`: deterministic, no network. `latency` simulates
    model time like the fake server's (`base_ms` per call plus prompt and completion costs); `calls` lists the
    purposes asked, in order."""

    def __init__(self, *, latency: LatencyModel | None = None, model: str = "heuristic", chunk_words: int = 3) -> None:
        self.latency = latency or LatencyModel()
        self.model = model
        self.chunk_words = max(1, chunk_words)
        self.calls: list[str] = []

    async def wait(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        self.calls.append(request.purpose)
        started = time.perf_counter()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        answer = engine_reply(purpose=request.purpose, messages=messages, schema=_json_schema(schema))
        try:
            value = schema.model_validate(answer)
        except ValidationError as error:
            raise LLMValidationError(
                f"heuristic answer for {request.purpose} is not a {schema.__name__}: {error}"
            ) from error
        prompt_tokens = sum(estimate_tokens(m.content) for m in request.messages)
        completion_tokens = estimate_tokens(json.dumps(answer))
        if on_text is None:
            await self.wait(
                self.latency.first_token_seconds(prompt_tokens) + self.latency.completion_seconds(completion_tokens)
            )
        else:  # the JSON in pieces of about four tokens, paced like the completion
            await self.wait(self.latency.first_token_seconds(prompt_tokens))

            async def paced(piece: str) -> None:
                await self.wait(self.latency.completion_seconds(estimate_tokens(piece)))

            await stream_json(answer, on_text, before_piece=paced)
        record = LLMCallRecord(
            purpose=request.purpose,
            model=request.model or self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        return StructuredResult(value=value, record=record)

    def stream(self, request: LLMRequest) -> HeuristicTextStream:
        self.calls.append(request.purpose)
        return HeuristicTextStream(self, request)


def request_purpose(body: Mapping[str, Any]) -> str | None:
    """The engine purpose of an OpenAI chat request: from the json_schema name (or the schema's title in
    json_object mode), or "composition" for the free-text reply prompt; None when it is not an engine call."""
    response_format = body.get("response_format")
    schema = response_schema(body)
    if isinstance(response_format, Mapping) and schema is not None:
        named = response_format.get("json_schema")
        name = named.get("name") if isinstance(named, Mapping) else None
        return PURPOSE_BY_SCHEMA_NAME.get(str(name or schema.get("title") or ""))
    messages = body.get("messages")
    if isinstance(messages, list) and any(
        isinstance(m, Mapping) and COMPOSITION_CUE in str(m.get("content") or "") for m in messages
    ):
        return "composition"
    return None


def openai_responder(request_json: dict[str, Any]) -> str | None:
    """The fake OpenAI server's responder hook: JSON content for structured engine calls, the reply text for
    the (streamed) composition, None (the server's default) for anything else."""
    purpose = request_purpose(request_json)
    raw = request_json.get("messages")
    if purpose is None or not isinstance(raw, list):
        return None
    messages = [{"role": m.get("role"), "content": message_text(m)} for m in raw if isinstance(m, dict)]
    answer = engine_reply(purpose=purpose, messages=messages, schema=response_schema(request_json))
    return answer if isinstance(answer, str) else json.dumps(answer)
