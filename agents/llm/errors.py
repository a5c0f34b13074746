"""Errors raised by the LLM adapters: the port's exceptions, plus the call record the trace needs
even when the call failed (read it with `getattr(error, "record", None)`)."""

from __future__ import annotations

from behavior.engine.ports import LLMCallRecord, LLMError, LLMTimeoutError, LLMValidationError


class LLMNotConfiguredError(LLMError):
    """No model server is configured for this agent (no API key, no base URL, or an unknown profile)."""


class _RecordedFailure(Exception):
    def __init__(self, message: str, *, record: LLMCallRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class LLMCallError(_RecordedFailure, LLMError):
    """Transport failure (network, 429, 5xx, rejected request) after the adapter's retries."""


class LLMCallTimeoutError(_RecordedFailure, LLMTimeoutError):
    """The server did not answer within the timeout, on every attempt."""


class LLMReplyValidationError(_RecordedFailure, LLMValidationError):
    """The reply failed schema validation on every attempt, re-asks included."""
