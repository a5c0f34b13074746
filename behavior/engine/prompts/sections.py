"""Prompts built from named sections, each with a cheap deterministic token estimate (~chars/4).

Machine-readable marker lines (``IDS: a, b``) end the prompts that expect one answer per item, so
the model knows exactly what to answer and fakes (tests, the fake OpenAI server) can answer it too."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from behavior.engine.ports import LLMMessage, LLMRequest

SectionName = Literal[
    "persona",
    "glossary",
    "guidelines",
    "journey",
    "tools",
    "variables",
    "history",
    "instructions",
    "examples",
    "insights",
    "canned",
    "reply",
]

IDS_MARKER = "IDS"  # guideline ids to judge (matching, single_pass, analysis)
CANNED_MARKER = "CANNED IDS"  # canned response ids to choose from
JOURNEY_MARKER = "JOURNEY"  # journey key; followed by "CURRENT STATE" and "STATES"
CURRENT_STATE_MARKER = "CURRENT STATE"
STATES_MARKER = "STATES"


# Token budgets of the sections whose size depends on the data. Not listed: "history" (bounded by
# EngineConfig.history_token_budget), "guidelines" (bounded by the batch size and per-line caps) and the
# fixed instructions. A section over its budget is cut at a line boundary and the cut is traced.
SECTION_BUDGETS: dict[str, int] = {
    "persona": 500,
    "glossary": 500,
    "variables": 400,
    "journey": 900,
    "tools": 1200,
    "insights": 500,
    "canned": 900,
    "examples": 250,
}
TRUNCATION_NOTE = "… (cut to fit the prompt budget)"


def estimate_tokens(text: str) -> int:
    """About four characters per token: cheap, deterministic, close enough for budgets."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True)
class PromptSection:
    name: SectionName
    text: str
    role: Literal["system", "user"] = "user"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def section_bounded(section: PromptSection) -> tuple[PromptSection, bool]:
    budget = SECTION_BUDGETS.get(section.name)
    if budget is None or section.tokens <= budget:
        return section, False
    limit = budget * 4 - len(TRUNCATION_NOTE) - 1
    cut = section.text[:limit]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return PromptSection(section.name, f"{cut}\n{TRUNCATION_NOTE}", role=section.role), True


@dataclass(frozen=True)
class Prompt:
    """Sections over their budget are cut on construction; `truncated` names them."""

    purpose: str
    sections: tuple[PromptSection, ...]
    truncated: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bounded = [section_bounded(s) for s in self.sections]
        object.__setattr__(self, "sections", tuple(s for s, _ in bounded))
        object.__setattr__(self, "truncated", tuple(s.name for s, cut in bounded if cut))

    def messages(self) -> tuple[LLMMessage, ...]:
        system = "\n\n".join(s.text for s in self.sections if s.role == "system" and s.text)
        user = "\n\n".join(_titled(s) for s in self.sections if s.role == "user" and s.text)
        messages = []
        if system:
            messages.append(LLMMessage(role="system", content=system))
        messages.append(LLMMessage(role="user", content=user or "(no content)"))
        return tuple(messages)

    def section_tokens(self) -> dict[str, int]:
        tokens: dict[str, int] = {}
        for section in self.sections:
            if section.text:
                tokens[section.name] = tokens.get(section.name, 0) + section.tokens
        return tokens

    @property
    def estimated_tokens(self) -> int:
        return sum(estimate_tokens(m.content) for m in self.messages())

    def request(self, *, model: str, temperature: float, max_tokens: int | None = None) -> LLMRequest:
        return LLMRequest(
            purpose=self.purpose, model=model, messages=self.messages(), temperature=temperature, max_tokens=max_tokens
        )

    def render(self) -> str:
        return "\n\n".join(f"[{m.role}]\n{m.content}" for m in self.messages())


def _titled(section: PromptSection) -> str:
    if section.name in ("instructions", "reply"):
        return section.text
    return f"## {section.name.upper()}\n{section.text}"


def listed_id(text: str) -> str:
    """An id as the model wrote it back, without the spaces or the [brackets] the prompts put around ids."""
    return text.strip().strip("[]")


def marker_line(marker: str, values: list[str] | tuple[str, ...]) -> str:
    return f"{marker}: {', '.join(values)}"


def marker_values(request: LLMRequest, marker: str) -> list[str]:
    """The values of the last ``MARKER: a, b`` line of the request (for fakes and adapters' tests)."""
    pattern = re.compile(rf"^{re.escape(marker)}: ?(.*)$", re.MULTILINE)
    found: list[str] = []
    for message in request.messages:
        for match in pattern.finditer(message.content):
            found = [v.strip() for v in match.group(1).split(",") if v.strip()]
    return found


def one_line(text: str | None, limit: int = 400) -> str:
    """Untrusted or long text as a single bounded line (newlines would break the prompt's structure)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
