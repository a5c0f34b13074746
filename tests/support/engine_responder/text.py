"""Word-level heuristics of the engine responder: content words with a few concepts folded together,
condition overlap, entity extraction for tool arguments, and imperative actions turned into reply text."""

from __future__ import annotations

import json
import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP = frozenset(
    "a an the and or but if then of to in on at for with by from as is are was were be been being am it its this that "
    "these those do does did done can could would should will shall may might must have has had i me my mine you your "
    "we our us they them their he she his her him customer customers agent want wants wanted like would need needs "
    "ask asks asked say says said tell told please about some something any anything just also very really still "
    "how what when where which who whom whose why whether there here other another much many more most so too "
    "thanks thank get gets got let now already yet again give gives gave given provide provided".split()
)
# Words folded into one concept, so a customer's wording meets a condition's ("hello" greets, "rebook" changes).
_CONCEPTS = {
    "greet": "hello hi hey hiya greet greets greeting greeted morning evening",
    "change": "change changes changed changing move moving rebook rebooking reschedule switch modify",
    "bag": "bag bags baggage luggage suitcase suitcases",
    "missing": "missing lost lose arrive arrived",
    "refund": "refund refunds refunded reimburse",
    "cancel": "cancel cancels cancelled canceled cancellation",
    "delay": "delay delays delayed late",
    "upset": "angry frustrated frustrating furious upset annoyed ridiculous terrible useless insulting",
    "human": "human person someone representative colleague operator",
    "speak": "speak talk chat call",
    "confirm": "yes yeah yep sure ok okay confirm confirms confirmed accept accepts accepted agree agrees",
    "neg": "no not nope never don't doesn't didn't isn't false",
    "date": "date dates day tomorrow today monday tuesday wednesday thursday friday saturday sunday",
    "book": "book booked booking bookings reservation",
    "reference": "reference pnr locator",
    "fee": "fee fees cost costs price charge charged",
    "compensation": "compensation compensate eu261",
}
_CONCEPT_OF = {word: concept for concept, words in _CONCEPTS.items() for word in words.split()}
_ANSWERS = frozenset({"confirm", "neg"})
_IMPERATIVES = frozenset(
    "ask tell give offer explain state check greet apologise apologize acknowledge summarise summarize present "
    "confirm thank share say look find suggest help inform mention remind provide use direct recommend advise "
    "transfer collect escalate invite request describe answer keep make send list quote repeat point refer "
    "reassure encourage verify let show walk guide follow cancel rebook book file report".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ed", "es", "ly", "s")

# Entities a customer gives, found by pattern, keyed by the words that name them in parameters and conditions.
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ENTITIES: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("email",), re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+", re.I)),
    (("phone",), re.compile(r"\+?\d[\d \-]{7,}\d")),
    (("tag",), re.compile(r"\b[A-Z]{2}\d{4,6}\b", re.I)),
    (("flight",), re.compile(r"\b[A-Z]{2}\d{2,4}\b", re.I)),
    (("reference", "booking", "pnr", "locator"), re.compile(r"\b(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{6}\b", re.I)),
    (("date",), _DATE),
    (("number", "account", "policy", "order", "invoice", "ticket", "id"), re.compile(r"\b(?:[A-Z]{2,4}-)?\d{4,}\b")),
    (("origin", "destination", "airport"), re.compile(r"\b[A-Z]{3}\b")),
)
# Text parameters a model fills from what the customer said ("reason" of the handoff tool).
_FREE_TEXT = frozenset({"reason", "summary", "description", "message", "details"})
_NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?![\w.])")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    """Stemmed lowercase content words (stopwords removed), synonyms folded into their concept."""
    found = set()
    for word in _WORD.findall(text.lower()[:4000]):
        word = word.removesuffix("'s")
        concept = _CONCEPT_OF.get(word) or _CONCEPT_OF.get(word.replace("'", ""))
        if concept:
            found.add(concept)
        elif word not in _STOP and len(word) > 1:
            found.add(_stem(word))
    return frozenset(found)


def overlap(condition: str, message: str) -> tuple[set[str], float]:
    """The shared words and how much of the condition they cover, in [0, 1]. Each "or" in a condition
    offers an alternative, so it needs one word fewer."""
    wanted, said = content_words(condition), content_words(message)
    shared = set(wanted & said)
    needed = max(1, len(wanted) - condition.count(" or "))
    return shared, min(1.0, len(shared) / needed)


def condition_holds(condition: str, message: str) -> tuple[bool, set[str]]:
    """Half the condition covered by at least two words (one for a one-word condition), three shared words, or a
    short message whose every topic word the condition names ("hello", "I want a refund")."""
    shared, score = overlap(condition, message)
    wanted = content_words(condition)
    topics = {w for w in content_words(message) - _ANSWERS if not any(c.isdigit() for c in w)}
    short = 0 < len(topics) <= 2 and topics <= shared
    return (score >= 0.5 and len(shared) >= min(2, len(wanted))) or len(shared) >= 3 or short, shared


def entity(name: str, texts: list[str]) -> str | None:
    """The value a parameter or condition named like `name` asks for, from `texts` (newest first)."""
    lowered = name.lower()
    parts = _parts(name)
    for hints, pattern in _ENTITIES:
        if parts & set(hints):
            for text in texts:
                found = pattern.findall(text)
                if found:
                    # "from LHR to CDG": the destination is the last airport code mentioned.
                    value = found[-1] if "destination" in lowered and len(found) > 1 else found[0]
                    return value.upper() if hints[0] != "email" else value
            return None
    return None


def _parts(name: str) -> set[str]:
    return {part.removesuffix("s") if len(part) > 3 else part for part in re.split(r"[^a-z0-9]+", name.lower())}


def given(condition: str, message: str) -> set[str]:
    """The condition's words naming an entity the message contains ("gave a booking reference" + "SKY4F7")."""
    parts = _parts(condition)
    words: set[str] = set()
    for hints, pattern in _ENTITIES:
        named = [hint for hint in hints if hint in parts]
        if named and pattern.search(message):
            words |= {w for hint in named for w in content_words(hint)}
    return words


def argument_value(name: str, kind: str, texts: list[str]) -> str | None:
    """A tool argument taken from the customer's messages (newest first), or None when they did not give it."""
    if kind == "date" or kind == "datetime":
        return next((m.group(0) for t in texts if (m := _DATE.search(t))), None)
    if kind.startswith("enum[") and kind.endswith("]"):
        options = kind[5:-1].split("/")
        return next((o for t in texts for o in options if re.search(rf"\b{re.escape(o)}\b", t, re.I)), None)
    if kind in ("int", "float"):
        numbers = [m.group(0) for t in texts for m in _NUMBER.finditer(_DATE.sub(" ", t))]
        return numbers[0] if numbers else None
    if kind == "bool":
        words = content_words(texts[0]) if texts else frozenset()
        return "true" if "confirm" in words else ("false" if "neg" in words else None)
    if kind.startswith("list["):
        value = entity(name, texts)
        return json.dumps([value]) if value else None
    if _parts(name) & _FREE_TEXT and texts:  # a reason or summary in the customer's own words
        return texts[0][:300]
    return entity(name, texts)


def as_reply_sentence(action: str) -> str:
    """An imperative action ("Tell them the fee") as something the agent says ("I will tell you the fee.")."""
    first = re.split(r"(?<=[.;])\s", action.strip(), maxsplit=1)[0].rstrip(".;: ")
    if len(first) > 220:
        first = first[:219].rsplit(" ", 1)[0] + "…"
    for pattern, replacement in (
        (r"\b(tell|remind|inform) them (?:that )?they\b", r"\1 you that you"),
        (r"\bthe customer's\b", "your"),
        (r"\bthe customer\b", "you"),
        (r"\btheir\b", "your"),
        (r"\bthemselves\b", "yourself"),
        (r"\b(tell|ask|give|offer|thank|greet|help|remind|invite|transfer|let) them\b", r"\1 you"),
        (r"\bthey\b", "you"),
    ):
        first = re.sub(pattern, replacement, first, flags=re.IGNORECASE)
    if not first:
        return ""
    if first.split(" ", 1)[0].lower().strip(",:") in _IMPERATIVES:
        return f"I will {first[:1].lower()}{first[1:]}."
    return f"{first[:1].upper()}{first[1:]}."
