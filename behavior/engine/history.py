"""Bounded conversation history for prompts.

The rule (deterministic, no LLM call):
1. Conversation = message events from the customer, the agent and human operators (preambles left out),
   each flattened to one line and cut to `message_max_chars`.
2. The last `history_verbatim_messages` messages are kept verbatim; while their estimated tokens exceed
   `history_token_budget`, the oldest of them moves to the summarised part (the latest customer
   message always stays verbatim).
3. Older messages become the summary: one short line per message ("customer: first 160 characters"),
   appended to the summary kept in the session state, which is capped at `summary_max_chars` by
   dropping its oldest lines.
4. Key facts survive trimming: identifiers the customer gave (booking/order references such as
   ABC123, numbers of 4+ digits, e-mail addresses, phone numbers, ISO dates) are extracted from every
   customer message and kept (the 20 most recent, deduplicated) in the session state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from behavior.engine.prompts.sections import estimate_tokens, one_line
from behavior.engine.types import EngineConfig, InteractionEvent, SessionState

MAX_KEY_FACTS = 20
SUMMARY_LINE_CHARS = 160
_CONVERSATION_SOURCES = ("customer", "agent", "human_operator")
_FACT_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"\+?\d[\d \-]{7,}\d"),  # phone-like
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO date
    re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{3,19}\b"),  # ABC123, AB-1234
    re.compile(r"\b\d{4,}\b"),  # order numbers
)


@dataclass(frozen=True)
class HistoryLine:
    offset: int
    source: str
    text: str


@dataclass(frozen=True)
class HistoryView:
    verbatim: tuple[HistoryLine, ...]
    summary: str
    key_facts: tuple[str, ...]
    summarised: int  # messages represented only by the summary
    summary_until_offset: int

    def render(self) -> str:
        parts = []
        if self.summary:
            parts.append(f"Earlier conversation (summary):\n{self.summary}")
        if self.key_facts and (self.summary or self.summarised):
            parts.append("Key facts from the customer: " + "; ".join(self.key_facts))
        lines = [f"#{line.offset} {line.source}: {line.text}" for line in self.verbatim]
        parts.append("\n".join(lines) if lines else "(no messages yet)")
        return "\n\n".join(parts)

    def recent_text(self, messages: int = 4) -> str:
        return "\n".join(line.text for line in self.verbatim[-messages:])

    @property
    def last_customer_text(self) -> str:
        for line in reversed(self.verbatim):
            if line.source == "customer":
                return line.text
        return ""

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())


def conversation(events: Iterable[InteractionEvent]) -> list[InteractionEvent]:
    return [
        e
        for e in events
        if e.kind == "message" and e.source in _CONVERSATION_SOURCES and not (e.data or {}).get("preamble")
    ]


def history_build(
    *, events: Iterable[InteractionEvent], state: SessionState, config: EngineConfig, censored: dict[int, str]
) -> HistoryView:
    """The bounded view of the conversation. `censored` maps offsets to the text that replaces them."""
    messages = conversation(events)
    lines = [
        HistoryLine(
            offset=e.offset,
            source=e.source,
            text=censored.get(e.offset) or one_line(e.text, config.message_max_chars) or "(empty)",
        )
        for e in messages
    ]
    keep = max(1, config.history_verbatim_messages)
    verbatim = lines[-keep:]
    older = lines[: len(lines) - len(verbatim)]
    last_customer = max((i for i, line in enumerate(verbatim) if line.source == "customer"), default=len(verbatim) - 1)
    while len(verbatim) > 1 and _tokens(verbatim) > config.history_token_budget and last_customer > 0:
        older.append(verbatim[0])
        verbatim = verbatim[1:]
        last_customer -= 1

    summary_lines = state.summary.splitlines() if state.summary else []
    summary_until = state.summary_until_offset
    for line in older:
        if line.offset > summary_until:
            summary_lines.append(f"{line.source}: {one_line(line.text, SUMMARY_LINE_CHARS)}")
            summary_until = line.offset
    while summary_lines and sum(len(s) + 1 for s in summary_lines) > config.summary_max_chars:
        summary_lines.pop(0)

    facts = list(state.key_facts)
    for e in messages:
        if e.source == "customer" and e.offset not in censored:
            for fact in extract_key_facts(e.text):
                if fact in facts:
                    facts.remove(fact)
                facts.append(fact)
    return HistoryView(
        verbatim=tuple(verbatim),
        summary="\n".join(summary_lines),
        key_facts=tuple(facts[-MAX_KEY_FACTS:]),
        summarised=len(older),
        summary_until_offset=summary_until,
    )


def extract_key_facts(text: str) -> list[str]:
    found: list[str] = []
    remaining = text[:5000]
    for pattern in _FACT_PATTERNS:
        for match in pattern.findall(remaining):
            value = match.strip()
            if value and value not in found and not any(value in f for f in found):
                found.append(value)
    return found


def _tokens(lines: list[HistoryLine]) -> int:
    return sum(estimate_tokens(f"#{line.offset} {line.source}: {line.text}") for line in lines)
