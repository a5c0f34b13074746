"""The `LLM` port when no model server is configured: every call fails with a message saying what to set,
so the app runs and pages and turns can say so plainly."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agents.llm.errors import LLMNotConfiguredError
from behavior.engine.ports import LLMCallRecord, LLMRequest, SchemaT, StructuredResult, TextSink

NOT_CONFIGURED_MESSAGE = "No language model is configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL)"


class UnconfiguredLLM:
    def __init__(self, message: str = NOT_CONFIGURED_MESSAGE) -> None:
        self.message = message

    async def generate(
        self, request: LLMRequest, schema: type[SchemaT], *, on_text: TextSink | None = None
    ) -> StructuredResult[SchemaT]:
        raise LLMNotConfiguredError(self.message)

    def stream(self, request: LLMRequest) -> UnconfiguredTextStream:
        return UnconfiguredTextStream(request, message=self.message)


class UnconfiguredTextStream:
    """Fails on first iteration (not on creation), like a real stream whose server is missing."""

    def __init__(self, request: LLMRequest, *, message: str) -> None:
        self.record: LLMCallRecord | None = None
        self._request = request
        self._message = message

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        self.record = LLMCallRecord(
            purpose=self._request.purpose,
            model=self._request.model,
            prompt_tokens=0,
            completion_tokens=0,
            latency_ms=0.0,
            error=self._message,
        )
        raise LLMNotConfiguredError(self._message)
        yield ""  # unreachable: makes this an async generator
