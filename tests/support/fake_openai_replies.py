"""What the fake OpenAI server answers: the latency model, scripted outcomes, default replies, token
counts and embedding vectors. Stdlib only."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.support.schema_instances import schema_instance

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_DIMENSIONS = 4096
MAX_SCRIPTED_DELAY_SECONDS = 600.0
_WORD = re.compile(r"[a-z0-9]+")
_OUTCOME_KEYS = frozenset(
    {"status", "retry_after", "message", "delay", "content", "malformed", "invalid", "endpoint", "times"}
)


@dataclass(frozen=True)
class LatencyModel:
    """Simulated model time: `base_ms` per call, plus prompt and completion costs."""

    base_ms: float = 0.0
    ms_per_100_prompt_tokens: float = 0.0
    ms_per_10_completion_tokens: float = 0.0

    def first_token_seconds(self, prompt_tokens: int) -> float:
        return (self.base_ms + self.ms_per_100_prompt_tokens * prompt_tokens / 100) / 1000

    def completion_seconds(self, completion_tokens: int) -> float:
        return self.ms_per_10_completion_tokens * completion_tokens / 10 / 1000


@dataclass(frozen=True)
class Outcome:
    """One scripted answer, consumed by the next request to `endpoint` ("chat" or "embeddings").

    `delay` seconds pass first (a client with a shorter timeout gives up); then `status` (an error
    with `retry_after` seconds and `message`), or the reply's content: `content` as given, `malformed`
    (not JSON), `invalid` (JSON failing the request's schema), or the responder's answer.
    """

    status: int | None = None
    retry_after: float | None = None
    message: str = ""
    delay: float = 0.0
    content: str | None = None
    malformed: bool = False
    invalid: bool = False
    endpoint: str = "chat"


def outcomes_from(items: Iterable[Outcome | Mapping[str, Any]]) -> list[Outcome]:
    """Outcomes from dicts as sent to `POST /_control/script` (`times` repeats one); ValueError if malformed."""
    outcomes: list[Outcome] = []
    for item in items:
        if isinstance(item, Outcome):
            outcomes.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ValueError("each outcome must be an object")
        unknown = set(item) - _OUTCOME_KEYS
        if unknown:
            raise ValueError(f"unknown outcome keys: {', '.join(sorted(unknown))}")
        status = item.get("status")
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status (400-599)")
        delay = _number_in(item.get("delay", 0.0), name="delay", maximum=MAX_SCRIPTED_DELAY_SECONDS)
        retry_after = item.get("retry_after")
        if retry_after is not None:
            retry_after = _number_in(retry_after, name="retry_after", maximum=3600.0)
        content = item.get("content")
        if content is not None and (not isinstance(content, str) or len(content) > MAX_BODY_BYTES):
            raise ValueError("content must be a string")
        endpoint = item.get("endpoint", "chat")
        if endpoint not in {"chat", "embeddings"}:
            raise ValueError("endpoint must be 'chat' or 'embeddings'")
        times = item.get("times", 1)
        if not isinstance(times, int) or not 1 <= times <= 1000:
            raise ValueError("times must be an integer between 1 and 1000")
        outcome = Outcome(
            status=status,
            retry_after=retry_after,
            message=str(item.get("message", ""))[:1000],
            delay=delay,
            content=content,
            malformed=bool(item.get("malformed", False)),
            invalid=bool(item.get("invalid", False)),
            endpoint=endpoint,
        )
        outcomes.extend([outcome] * times)
    return outcomes


# ---------------------------------------------------------------------- default replies


def default_content(body: Mapping[str, Any]) -> str:
    """A schema instance for structured requests, a short polite reply otherwise."""
    hint = last_user_message(body)
    schema = response_schema(body)
    if schema is not None:
        return json.dumps(schema_instance(schema, hint=hint))
    if hint:
        snippet = hint if len(hint) <= 80 else hint[:79] + "…"
        return f"Thank you for your message about “{snippet}”. I am looking into it and will help you right away."
    return "Hello! How can I help you today?"


def response_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a request asks its reply to follow (json_schema, or json_object with `schema`)."""
    response_format = body.get("response_format")
    if not isinstance(response_format, Mapping):
        return None
    if response_format.get("type") == "json_schema":
        json_schema = response_format.get("json_schema")
        schema = json_schema.get("schema") if isinstance(json_schema, Mapping) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    if response_format.get("type") == "json_object":
        schema = response_format.get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def last_user_message(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return message_text(message)
    return ""


def estimated_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def prompt_tokens(body: Mapping[str, Any]) -> int:
    raw = body.get("messages")
    messages: list[Any] = raw if isinstance(raw, list) else []
    text = "".join(message_text(message) for message in messages if isinstance(message, Mapping))
    schema = response_schema(body)
    schema_chars = len(json.dumps(schema)) if schema is not None else 0
    return estimated_tokens(text) + math.ceil(schema_chars / 4) + 4 * len(messages)


def embedding_vector(text: str, *, dimensions: int) -> list[float]:
    """Signed feature hashing of the words: deterministic, unit length, similar texts close."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()) or ["<empty>"]:
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vector[value % dimensions] += 1.0 if (value >> 63) & 1 else -1.0
    norm = math.sqrt(sum(component * component for component in vector))
    if norm == 0.0:
        vector[0], norm = 1.0, 1.0
    return [component / norm for component in vector]


def invalid_instance(schema: dict[str, Any] | None) -> str:
    if schema is None:
        return "[]"
    instance = schema_instance(schema)
    required = schema.get("required") or list((schema.get("properties") or {}).keys())
    if isinstance(instance, dict) and required:
        instance.pop(required[0], None)
        instance["unexpected_field"] = "not in the schema"
        return json.dumps(instance)
    return "[]"  # not an object: fails any object schema


def message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _number_in(value: Any, *, name: str, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be a number between 0 and {maximum:g}")
    return float(value)


def embedding_inputs(raw: Any) -> list[str] | None:
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_EMBEDDING_INPUTS:
        return None
    if all(isinstance(item, int) for item in raw):  # one token array
        return [" ".join(f"t{item}" for item in raw)]
    texts = []
    for item in raw:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list) and all(isinstance(token, int) for token in item):
            texts.append(" ".join(f"t{token}" for token in item))
        else:
            return None
    return texts
