"""The `LLM` port over any OpenAI-compatible chat completions server: JSON-schema structured outputs,
streaming with usage, bounded retries with backoff, and a re-ask when a reply fails validation."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import json
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from agents.llm.errors import LLMCallError, LLMCallTimeoutError, LLMReplyValidationError
from agents.llm.grammar_bounds import grammar_bounded
from agents.llm.strict_schema import json_schema_name, strict_json_schema
from behavior.engine.ports import LLMCallRecord, LLMMessage, LLMRequest, StructuredResult, TextSink

logger = logging.getLogger(__name__)

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")

# "json_schema": OpenAI structured outputs. "json_object": JSON mode with the schema in the prompt and
# in `response_format.schema`, which llama-cpp-python's server turns into a grammar.
StructuredOutputMode = Literal["json_schema", "json_object"]
STRUCTURED_OUTPUT_MODES: tuple[StructuredOutputMode, ...] = ("json_schema", "json_object")

_MAX_ECHOED_REPLY_CHARS = 4_000  # an invalid reply echoed back in a re-ask
_MAX_ERROR_DETAIL_CHARS = 1_500


@dataclasses.dataclass(frozen=True)
class _Failure:
    kind: Literal["timeout", "rate_limit", "server", "connection", "rejected"]
    message: str
    retry_after_seconds: float | None = None
    status: int | None = None

    @property
    def retryable(self) -> bool:
        return self.kind != "rejected"


class _CallFailed(Exception):
    def __init__(self, failure: _Failure, *, retries: int) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.retries = retries


class OpenAILLM:
    """One OpenAI-compatible server. The model comes from each request (`default_model` when a request
    leaves it empty); the `openai` client's own retries are off so that ours are counted and traced."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        default_model: str = "",
        timeout_seconds: float = 60.0,
        max_retries: int = 3,
        structured_output: StructuredOutputMode = "json_schema",
        max_validation_attempts: int = 3,
        initial_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        max_retry_after_seconds: float = 30.0,
        profile: str = "default",
    ) -> None:
        if structured_output not in STRUCTURED_OUTPUT_MODES:
            raise ValueError(f"structured_output must be one of {', '.join(STRUCTURED_OUTPUT_MODES)}")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if max_retries < 0 or max_validation_attempts < 1:
            raise ValueError("max_retries must be >= 0 and max_validation_attempts >= 1")
        self.api_key = api_key or "not-needed"  # local compatible servers accept any key
        self.base_url = base_url or None
        self.default_model = default_model
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.structured_output: StructuredOutputMode = structured_output
        self.max_validation_attempts = max_validation_attempts
        self.initial_backoff_seconds = initial_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_retry_after_seconds = max_retry_after_seconds
        self.profile = profile
        self._random = random.Random()
        # An httpx connection pool belongs to the event loop that opened it, and Celery tasks each run
        # their own loop: one client per live loop.
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, openai.AsyncOpenAI]] = {}
        self._clients_lock = threading.Lock()  # embedded mode runs turns in several threads, one loop each

    # ------------------------------------------------------------------ the port

    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        """See the LLM port. With `on_text` the first attempt is streamed (chunks of raw JSON); a failure
        after the first chunk is not retried (the text already went out), re-asks are not streamed."""
        model = self._model_for(request)
        json_schema, strict = strict_json_schema(schema)
        messages = self._messages_with_schema(request.messages, json_schema)
        started = time.monotonic()
        prompt_tokens = completion_tokens = retries = 0
        last_error = ""
        for attempt in range(self.max_validation_attempts):
            if attempt:
                retries += 1  # a re-ask is one more round trip, traced like a transport retry
            try:
                (content, usage), transport_retries = await self._with_retries(
                    functools.partial(
                        self._complete,
                        request,
                        model=model,
                        messages=messages,
                        schema=schema,
                        json_schema=json_schema,
                        strict=strict,
                        on_text=on_text if attempt == 0 else None,
                    )
                )
            except _CallFailed as failed:
                failure = failed.failure
                if failure.status == 400 and self.structured_output == "json_schema":
                    hint = (
                        " (a server without json_schema response formats needs the json_object structured output mode)"
                    )
                    failure = dataclasses.replace(failure, message=failure.message + hint)
                record = self._record(
                    request,
                    model=model,
                    started=started,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    retries=retries + failed.retries,
                    error=failure.message,
                )
                raise _error_for(failure, record=record) from failed
            retries += transport_retries
            prompt_tokens += usage.prompt_tokens if usage else _estimated_tokens(_messages_text(messages))
            completion_tokens += usage.completion_tokens if usage else _estimated_tokens(content or "")
            try:
                value = _validated(content, schema)
            except ValueError as invalid:
                last_error = str(invalid)
                logger.info(
                    "LLM reply for %s failed validation (attempt %d): %s", request.purpose, attempt + 1, last_error
                )
                messages = [*messages, *_reask_messages(content, last_error)]
                continue
            record = self._record(
                request,
                model=model,
                started=started,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                retries=retries,
            )
            return StructuredResult(value=value, record=record)
        message = (
            f"the model's reply did not validate against {schema.__name__} after "
            f"{self.max_validation_attempts} attempts: {last_error}"
        )
        record = self._record(
            request,
            model=model,
            started=started,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            retries=retries,
            error=message,
        )
        raise LLMReplyValidationError(message, record=record)

    def stream(self, request: LLMRequest) -> OpenAITextStream:
        return OpenAITextStream(self, request)

    async def aclose(self) -> None:
        """Close the client of the running event loop (others are dropped when their loop closes)."""
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            entry = self._clients.pop(id(loop), None)
        if entry is not None:
            await entry[1].close()

    # ------------------------------------------------------------------ requests

    def client(self) -> openai.AsyncOpenAI:
        """The `openai` client of the running event loop (created on first use)."""
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            for key, (known_loop, _client) in list(self._clients.items()):
                if known_loop.is_closed():
                    self._clients.pop(key, None)
            entry = self._clients.get(id(loop))
            if entry is None or entry[0] is not loop:
                client = openai.AsyncOpenAI(
                    api_key=self.api_key,
                    base_url=self.base_url,
                    timeout=openai.Timeout(self.timeout_seconds, connect=min(self.timeout_seconds, 10.0)),
                    max_retries=0,
                )
                entry = (loop, client)
                self._clients[id(loop)] = entry
            return entry[1]

    def _model_for(self, request: LLMRequest) -> str:
        model = request.model or self.default_model
        if not model:
            raise ValueError("the request names no model and the adapter has no default model")
        return model

    def completion_arguments(
        self, request: LLMRequest, *, model: str, messages: list[dict[str, str]]
    ) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": model, "messages": messages, "temperature": request.temperature}
        if request.max_tokens is not None:
            # api.openai.com's newer models only take max_completion_tokens; compatible servers
            # (llama.cpp, vLLM, Ollama) know max_tokens.
            key = "max_completion_tokens" if self.base_url is None else "max_tokens"
            arguments[key] = request.max_tokens
        return arguments

    async def _complete(
        self,
        request: LLMRequest,
        *,
        model: str,
        messages: list[dict[str, str]],
        schema: type[BaseModel],
        json_schema: dict[str, Any],
        strict: bool,
        on_text: TextSink | None = None,
    ) -> tuple[str | None, Any]:
        """One call: the reply's content and its usage (None when the server sent none)."""
        arguments = self.completion_arguments(request, model=model, messages=messages)
        if self.structured_output == "json_schema":
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": json_schema_name(schema), "schema": json_schema, "strict": strict},
            }
        else:
            arguments["response_format"] = {"type": "json_object", "schema": grammar_bounded(json_schema)}
        if on_text is not None:
            return await self._complete_streamed(arguments, on_text)
        # The client's read timeout is per read; this bounds the whole call.
        async with asyncio.timeout(self.timeout_seconds):
            completion = await self.client().chat.completions.create(**arguments)
        content = completion.choices[0].message.content if completion.choices else None
        return content, completion.usage

    async def _complete_streamed(self, arguments: dict[str, Any], on_text: TextSink) -> tuple[str | None, Any]:
        arguments = {**arguments, "stream": True, "stream_options": {"include_usage": True}}
        parts: list[str] = []
        reader = _DeltaReader()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                stream = await self.client().chat.completions.create(**arguments)
                try:
                    async for content in reader.contents(stream):
                        parts.append(content)
                        await on_text(content)
                finally:
                    await stream.close()
        except (openai.OpenAIError, TimeoutError) as error:
            if parts:  # part of the reply went out already: a retry would send it twice
                raise _CallFailed(failure_of(error), retries=0) from error
            raise
        return "".join(parts), reader.usage

    def _messages_with_schema(
        self, messages: tuple[LLMMessage, ...], json_schema: dict[str, Any]
    ) -> list[dict[str, str]]:
        rendered = [{"role": message.role, "content": message.content} for message in messages]
        if self.structured_output != "json_object":
            return rendered
        instruction = (
            "Reply with one JSON object and nothing else (no prose, no code fence). It must validate "
            f"against this JSON schema:\n{json.dumps(json_schema, separators=(',', ':'))}"
        )
        # Several chat templates (llama.cpp) accept a single system message, and only first.
        if rendered and rendered[0]["role"] == "system":
            rendered[0] = {"role": "system", "content": f"{rendered[0]['content']}\n\n{instruction}"}
        else:
            rendered.insert(0, {"role": "system", "content": instruction})
        return rendered

    async def _with_retries(self, call: Callable[[], Awaitable[ResultT]]) -> tuple[ResultT, int]:
        """The call's result and how many retries it took; `_CallFailed` once retries are spent."""
        attempt = 0
        while True:
            try:
                return await call(), attempt
            except (openai.OpenAIError, TimeoutError) as error:
                failure = failure_of(error)
            delay = self.retry_delay(failure, attempt=attempt)
            if delay is None:
                raise _CallFailed(failure, retries=attempt)
            logger.info("LLM call failed (%s), retry %d in %.2fs", failure.message, attempt + 1, delay)
            await asyncio.sleep(delay)
            attempt += 1

    def retry_delay(self, failure: _Failure, *, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up."""
        if not failure.retryable or attempt >= self.max_retries:
            return None
        if failure.retry_after_seconds is not None:
            if failure.retry_after_seconds > self.max_retry_after_seconds:
                return None  # a long rate-limit window: failing now beats holding the customer
            return failure.retry_after_seconds + self._random.uniform(0, 0.1 * failure.retry_after_seconds)
        ceiling = min(self.max_backoff_seconds, self.initial_backoff_seconds * 2**attempt)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def _record(
        self,
        request: LLMRequest,
        *,
        model: str,
        started: float,
        prompt_tokens: int,
        completion_tokens: int,
        retries: int,
        error: str | None = None,
    ) -> LLMCallRecord:
        return LLMCallRecord(
            purpose=request.purpose,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=(time.monotonic() - started) * 1000,
            retries=retries,
            error=error,
        )


class OpenAITextStream:
    """The `TextStream` of one streamed completion; iterate it once. A failure before the first text
    is retried like any call; after it, the error is raised (re-sending would duplicate text)."""

    def __init__(self, llm: OpenAILLM, request: LLMRequest) -> None:
        self.record: LLMCallRecord | None = None
        self._llm = llm
        self._request = request
        self._iterated = False

    def __aiter__(self) -> AsyncIterator[str]:
        if self._iterated:
            raise RuntimeError("a text stream can be iterated only once")
        self._iterated = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        llm, request = self._llm, self._request
        model = llm._model_for(request)
        messages = [{"role": message.role, "content": message.content} for message in request.messages]
        arguments = llm.completion_arguments(request, model=model, messages=messages)
        arguments.update(stream=True, stream_options={"include_usage": True})
        started = time.monotonic()
        retries = 0
        text: list[str] = []
        reader = _DeltaReader()
        error: str | None = None
        try:
            while True:
                stream: Any = None
                try:
                    stream = await llm.client().chat.completions.create(**arguments)
                    async for content in reader.contents(stream):
                        text.append(content)
                        yield content
                    break
                except (openai.OpenAIError, TimeoutError) as exception:
                    failure = failure_of(exception)
                    delay = None if text else llm.retry_delay(failure, attempt=retries)
                    if delay is None:
                        error = failure.message
                        record = self._finish(model, started, messages, text, reader.usage, retries, error)
                        raise _error_for(failure, record=record) from exception
                    logger.info("LLM stream failed (%s), retry %d in %.2fs", failure.message, retries + 1, delay)
                    await asyncio.sleep(delay)
                    retries += 1
                finally:
                    if stream is not None:
                        await stream.close()
        finally:
            # Also reached when the consumer stops early (a superseded turn): the record still counts.
            if self.record is None:
                self._finish(model, started, messages, text, reader.usage, retries, error)

    def _finish(
        self,
        model: str,
        started: float,
        messages: list[dict[str, str]],
        text: list[str],
        usage: Any,
        retries: int,
        error: str | None,
    ) -> LLMCallRecord:
        # Servers that ignore stream_options send no usage: estimate rather than report zero.
        self.record = LLMCallRecord(
            purpose=self._request.purpose,
            model=model,
            prompt_tokens=usage.prompt_tokens if usage else _estimated_tokens(_messages_text(messages)),
            completion_tokens=usage.completion_tokens if usage else _estimated_tokens("".join(text)),
            latency_ms=(time.monotonic() - started) * 1000,
            retries=retries,
            error=error,
        )
        return self.record


# ---------------------------------------------------------------------- helpers


class _DeltaReader:
    """The text deltas of a streamed completion, keeping the usage its last chunk reports."""

    def __init__(self) -> None:
        self.usage: Any = None

    async def contents(self, stream: Any) -> AsyncIterator[str]:
        async for chunk in stream:
            if chunk.usage is not None:
                self.usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content


def failure_of(error: BaseException) -> _Failure:
    """Classify an `openai` exception (or our deadline's TimeoutError) for the retry policy."""
    if isinstance(error, openai.APITimeoutError | TimeoutError):
        return _Failure("timeout", "the model server did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return _Failure("connection", f"could not reach the model server: {error}")
    if isinstance(error, openai.APIStatusError):
        status = error.response.status_code
        detail = f"the model server answered HTTP {status}: {_short(str(error.message))}"
        retry_after = retry_after_seconds(error.response.headers)
        if status == 429:
            return _Failure("rate_limit", detail, retry_after_seconds=retry_after, status=status)
        if status >= 500 or status == 408:
            return _Failure("server", detail, retry_after_seconds=retry_after, status=status)
        return _Failure("rejected", detail, status=status)
    if isinstance(error, openai.APIError):  # an error event inside a stream
        return _Failure("server", f"the model server reported an error: {_short(str(error))}")
    return _Failure("rejected", f"the model call failed: {_short(str(error))}")


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None if absent or bad."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _error_for(failure: _Failure, *, record: LLMCallRecord) -> LLMCallError | LLMCallTimeoutError:
    if failure.kind == "timeout":
        return LLMCallTimeoutError(failure.message, record=record)
    return LLMCallError(failure.message, record=record)


def _validated(content: str | None, schema: type[SchemaT]) -> SchemaT:
    if content is None or not content.strip():
        raise ValueError("the reply was empty; a JSON object was expected")
    text = content.strip()
    if text.startswith("```"):  # small models wrap JSON in a code fence despite instructions
        text = text.strip("`").strip()
        if text.lower().startswith("json"):
            text = text[4:].strip()
    try:
        return schema.model_validate_json(text)
    except ValidationError as error:
        raise ValueError(_validation_summary(error)) from error


def _validation_summary(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(the reply)"
        parts.append(f"{location}: {item['msg']}")
    return _short("; ".join(parts), limit=_MAX_ERROR_DETAIL_CHARS)


def _reask_messages(content: str | None, error: str) -> list[dict[str, str]]:
    return [
        {"role": "assistant", "content": _short(content or "", limit=_MAX_ECHOED_REPLY_CHARS)},
        {
            "role": "user",
            "content": (
                f"Your reply was not valid: {error}\n"
                "Reply again with only the corrected JSON object, following the schema exactly."
            ),
        },
    ]


def _messages_text(messages: list[dict[str, str]]) -> str:
    return "".join(message["content"] for message in messages)


def _estimated_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _short(text: str, *, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
