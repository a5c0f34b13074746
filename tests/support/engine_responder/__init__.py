"""An engine-aware fake model: plausible, deterministic answers to the engine's prompts (matched guidelines with
rationales, journey moves, tool calls with arguments, composed replies) for end-to-end tests and benchmarks.

    python -m tests.support.fake_openai_server --responder tests.support.engine_responder:openai_responder
"""

from __future__ import annotations

from tests.support.engine_responder.adapters import HeuristicLLM, HeuristicTextStream, openai_responder, request_purpose
from tests.support.engine_responder.answers import engine_reply

__all__ = ["HeuristicLLM", "HeuristicTextStream", "engine_reply", "openai_responder", "request_purpose"]
