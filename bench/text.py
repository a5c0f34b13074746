"""Small text helpers shared by the bench's fake LLM and its generators: content words, overlap, and
extraction of identifiers (booking references, dates, ...) from what the customer wrote."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "ed",
    "er",
    "es",
    "ly",
    "s",
)
# Function words and the words every condition shares ("the customer asks about ..."): they carry no topic.
_STOPWORDS = frozenset(
    """a an the of to in on at for and or is are was were be been being it its this that these those with as by from
    do does did i my me mine you your we our they their them he she his her so if then than not no yes also just
    very too can could would should will shall may might must has have had get got let lets please thanks thank
    hi hello hey customer customers agent ask asks asked want wants wanted need needs needed about what when why how
    which who whom whether there here some any all one more much many like know tell say says said mention mentions
    question questions help make makes give gives gave again still now today""".split()
)

FACT_PATTERNS: dict[str, re.Pattern[str]] = {
    "booking_reference": re.compile(r"\b[A-Z]{3}\d{3}\b"),
    "bag_tag": re.compile(r"\bBG\d{4}\b"),
    "order_number": re.compile(r"\b\d{5}\b"),
    "policy_number": re.compile(r"\bPOL-\d{4}\b"),
    "account_number": re.compile(r"\bAC-\d{6}\b"),
    "date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "number": re.compile(r"\b\d+(?:\.\d+)?\b"),
}


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Stemmed topic words of `text` (function words and generic conversation words removed)."""
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1}


def overlap_holds(condition: str, message: str, *, minimum: int = 2, fraction: float = 0.5) -> bool:
    """The fake LLM's notion of "this condition holds for this message": they share at least `minimum`
    topic words, or at least `fraction` of the condition's topic words (for short conditions)."""
    wanted = content_words(condition)
    if not wanted:
        return False
    shared = len(wanted & content_words(message))
    return shared >= minimum or (shared >= 1 and shared / len(wanted) >= fraction)


def estimate_tokens(text: str) -> int:
    """About four characters per token, like the engine's own estimate."""
    return math.ceil(len(text) / 4) if text else 0


def fact_pattern(parameter_name: str, parameter_type: str) -> re.Pattern[str] | None:
    """The pattern that finds a value for a tool parameter in the conversation, by naming convention."""
    name = parameter_name.lower()
    if parameter_type in ("date", "datetime") or name.endswith("date"):
        return FACT_PATTERNS["date"]
    for key in ("bag_tag", "booking_reference", "order_number", "policy_number", "account_number"):
        if key in name:
            return FACT_PATTERNS[key]
    if parameter_type in ("int", "float"):
        return FACT_PATTERNS["number"]
    return None


def find_latest(pattern: re.Pattern[str], texts_newest_first: Iterable[str]) -> str | None:
    for text in texts_newest_first:
        found = pattern.findall(text)
        if found:
            return str(found[-1])
    return None
