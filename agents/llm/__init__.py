"""LLM adapters: the engine's `LLM` port over OpenAI-compatible servers (the only package that imports
`openai` for chat), and the factory that picks one per agent."""

from __future__ import annotations

from agents.llm.errors import LLMCallError, LLMCallTimeoutError, LLMNotConfiguredError, LLMReplyValidationError
from agents.llm.factory import llm_configuration_status, llm_endpoint, llm_for_agent
from agents.llm.openai_adapter import OpenAILLM, OpenAITextStream
from agents.llm.unconfigured import NOT_CONFIGURED_MESSAGE, UnconfiguredLLM

__all__ = [
    "NOT_CONFIGURED_MESSAGE",
    "LLMCallError",
    "LLMCallTimeoutError",
    "LLMNotConfiguredError",
    "LLMReplyValidationError",
    "OpenAILLM",
    "OpenAITextStream",
    "UnconfiguredLLM",
    "llm_configuration_status",
    "llm_endpoint",
    "llm_for_agent",
]
