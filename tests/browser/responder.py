"""What the fake OpenAI server answers in the browser tests: realistic verdicts (with rationale) for the demo
agent's guidelines, a short preamble, and a composed reply that streams in word by word.

Used as `python -m tests.support.fake_openai_server --responder tests.browser.responder:answer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tests.support.fake_openai_replies import response_schema

# Which demo guidelines apply, by words in the customer's latest message, and the rationale the model gives.
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "baggage-allowance": (
        ("how much baggage", "allowance", "how many bags"),
        "The customer asks how much baggage they may bring, which is exactly this guideline's condition.",
    ),
    "greet": (("hello", "hi ", "good morning"), "The customer opens the conversation with a greeting."),
}
REPLY = (
    "Happy to help! On a Basic fare you can bring one cabin bag of up to 8 kg. A Standard fare adds one checked "
    "bag of up to 23 kg, and a Flex fare includes two checked bags of up to 23 kg each. As a Gold member you also "
    "get one extra checked bag on every Skyway flight. If you need more, extra bags can be added to your booking "
    "online up to 24 hours before departure."
)
_CUSTOMER_LINE = re.compile(r"#\d+ customer: (.*)")
_IDS = re.compile(r"^IDS: ?(.*)$", re.MULTILINE)


def answer(body: Mapping[str, Any]) -> str | None:
    """The reply's content, or None to fall back to the fake server's default."""
    text = _all_text(body)
    customer = _latest_customer_message(text).lower()
    schema = response_schema(body)
    if schema is None:
        return REPLY  # the streamed composition
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    if "verdicts" in properties:
        ids = _ids(text)
        content: dict[str, Any] = {"verdicts": [_verdict(key, customer) for key in ids]}
        if "reply" in properties:
            content["reply"] = REPLY
            content["followed"] = [key for key in ids if _applies(key, customer)]
        elif "draft" in properties:
            return None
        return json.dumps(content)
    if set(properties) == {"message"}:
        return json.dumps({"message": "Let me check that for you."})
    if "items" in properties:  # the post-reply analysis
        return json.dumps(
            {
                "items": [
                    {"id": key, "rationale": "The reply states the allowance.", "applied": _applies(key, customer)}
                    for key in _ids(text)
                ]
            }
        )
    return None


def _verdict(key: str, customer: str) -> dict[str, Any]:
    applies = _applies(key, customer)
    if not applies:
        return {"id": key, "facts": "-", "rationale": "Not about this.", "applies": False, "tool_calls": []}
    facts = f"The customer wrote: {customer[:120]}"
    return {"id": key, "facts": facts, "rationale": RULES[key][1], "applies": True, "tool_calls": []}


def _applies(key: str, customer: str) -> bool:
    words = RULES.get(key, ((), ""))[0]
    return any(word in customer for word in words)


def _ids(text: str) -> list[str]:
    found = _IDS.findall(text)
    if not found:
        return []
    return [part.strip() for part in found[-1].split(",") if part.strip()]


def _latest_customer_message(text: str) -> str:
    lines = _CUSTOMER_LINE.findall(text)
    return lines[-1] if lines else ""


def _all_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    parts = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(item.get("text", "")) for item in content if isinstance(item, Mapping))
    return "\n".join(parts)
