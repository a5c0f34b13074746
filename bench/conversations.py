"""The scripted customer conversations the bench plays against the generated documents (`bench.generate`):
each message with the guideline keys it is written to trigger, to measure candidate recall."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from behavior.engine.index import trigger_key
from bench.domains import DOMAINS
from bench.generate import core_guidelines


@dataclass(frozen=True)
class Conversation:
    """Customer messages, and per turn the guideline keys the message is written to trigger (to measure
    whether retrieval brings them to matching)."""

    name: str
    messages: tuple[str, ...]
    targets: tuple[tuple[str, ...], ...] = ()

    def targets_of(self, turn: int) -> tuple[str, ...]:
        return self.targets[turn] if turn < len(self.targets) else ()


BAGGAGE_CONVERSATION = Conversation(
    "baggage",
    (
        "Hello! How much baggage can I bring on my flight to Paris?",
        "Can you check the status of my booking ABC123?",
        "My bag did not arrive in Madrid and I want to report it missing.",
        "The booking reference is ABC123 and the bag tag number is BG4821.",
        "It is a blue Samsonite suitcase, medium size, with a red ribbon.",
        "Thanks! Can I also get a refund for the seat upgrade I paid for?",
    ),
    (("greeting", "baggage-allowance"), ("booking-status",), ("reports-missing-bag",), (), (), ("refund-request",)),
)
REBOOKING_CONVERSATION = Conversation(
    "rebooking",
    (
        "Hi, what does PNR mean on my confirmation email?",
        "I need to change my flight to Paris to another date.",
        "My booking reference is XYZ789 and I would like to travel on 2026-03-14.",
        "I pick the 16:15 flight, it is better for me.",
        "My last flight was delayed by five hours and I am really frustrated.",
        "Yes, please confirm the change. That is all, thank you.",
    ),
    ((), (trigger_key("rebooking", 0),), (), (), ("flight-delay", "customer-frustrated"), ()),
)
REFERENCE_CONVERSATION = Conversation(
    "reference",
    (
        "Hello! How much baggage can I bring on my flight?",
        "Can you check the status of my booking ABC123?",
        "I need to change my flight to another date.",
        "My booking reference is ABC123 and I would like to travel on 2026-03-14.",
    ),
    (("greeting", "baggage-allowance"), ("booking-status",), (trigger_key("rebooking", 0),), ()),
)
SINGLE_PASS_CONVERSATION = Conversation(
    "faq",
    (
        "Hello there! What does seat selection cost?",
        "How much baggage can I bring on my flight?",
        "My flight was delayed and I am upset.",
        "Can I get a refund for my seat?",
    ),
    (("greeting", "seat-fees"), ("baggage-allowance",), ("flight-delay", "customer-frustrated"), ("refund-request",)),
)


def topic_conversation(document: dict[str, Any], *, turns: int = 6, seed: int = 7) -> Conversation:
    """Questions about topics of the document's filler guidelines (paraphrased: topic and qualifier, not
    the condition's wording), or about topics it does not cover when it has no fillers."""
    rng = random.Random(f"topics:{seed}")
    core = {g["key"] for g in core_guidelines()}
    fillers = [g for g in document["guidelines"] if g["key"] not in core and g["action"]]
    openers = (
        "Quick question about",
        "I'm not sure about",
        "Could you explain",
        "I need some help with",
        "What's the deal with",
        "Tell me about",
    )
    messages, targets = [], []
    for turn in range(turns):
        opener = openers[turn % len(openers)]
        if fillers:
            chosen = rng.choice(fillers)
            title = chosen["title"]
            messages.append(f"{opener} {title[:1].lower()}{title[1:]}?")
            targets.append((chosen["key"],))
        else:
            domain = DOMAINS[turn % len(DOMAINS)]
            messages.append(f"{opener} {rng.choice(domain.topics)}?")
            targets.append(())
    return Conversation("topics", tuple(messages), tuple(targets))


def main_conversations(document: dict[str, Any], *, count: int = 3, seed: int = 7) -> list[Conversation]:
    return [BAGGAGE_CONVERSATION, REBOOKING_CONVERSATION, topic_conversation(document, seed=seed)][:count]
