"""Generated test cases for the evaluation bench (bench/eval_bench.py): Skyway customers' messages (the demo agent's
domain: bookings, baggage, delays, rebooking, refunds) with the assertions the demo agent meets, combined into
scripted cases of 1 to 3 turns, plus simulated customers with a goal. Deterministic for a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# Budgets every case asserts on the whole conversation: loose enough for any latency the bench is run with.
TOKEN_BUDGET = 200_000
LATENCY_BUDGET_MS = 120_000
SIMULATED_SHARE = 6  # one case in six is a simulated customer
CRITERION_SHARE = 5  # one scripted case in five also has a criterion for the LLM judge


@dataclass(frozen=True)
class Topic:
    """Something a customer writes about: paraphrases of the message, what its turn must show, and a criterion in
    plain words for the judge (when the agent's reply should meet one)."""

    key: str
    messages: tuple[str, ...]
    assertions: tuple[dict[str, Any], ...] = ()
    criterion: str = ""


def _matched(key: str) -> dict[str, Any]:
    return {"type": "guideline_matched", "guideline": key}


HANDOFF = "handoff"  # its case asserts a handoff instead of none, and it comes last (the agent is silent after it)
TOPICS: tuple[Topic, ...] = (
    Topic(
        "missing-bag",
        (
            "My checked bag did not arrive in Madrid, it is missing.",
            "The airline lost my checked bag, it never arrived at the belt.",
            "I need to buy toiletries and clothes while my bag is missing.",
        ),
        (
            {"type": "journey_entered", "journey": "baggage-claim"},
            {"type": "journey_in_state", "journey": "baggage-claim", "state": "ask-details"},
        ),
    ),
    Topic(
        "refund",
        ("I would like a refund for my ticket, please.", "I want my money back, please refund my ticket."),
        (_matched("refund-policy"),),
        "The agent explains the refund rules for the fare",
    ),
    Topic(
        "refund-booking",
        ("Can I get a refund for booking QX82LM?", "Please refund booking QX82LM, I cannot travel."),
        (
            _matched("refund-policy"),
            {"type": "tool_called", "tool": "lookup_booking", "arguments": {"booking_reference": "QX82LM"}},
        ),
    ),
    Topic(
        "baggage-allowance",
        ("How much baggage can I bring on a Standard fare?", "How much baggage can I bring with me to New York?"),
        (_matched("baggage-allowance"), {"type": "reply_contains", "text": "allowance"}),
        "The agent states the baggage allowance for the fare",
    ),
    Topic(
        "check-in",
        ("When does check-in open for my flight to Paris?", "When does check-in open, and when does it close?"),
        (_matched("check-in-times"), {"type": "reply_matches", "pattern": r"\d+ (hours|minutes)"}),
        "The agent says when online check-in opens and closes",
    ),
    Topic(
        "flight-status",
        ("Is flight SK101 on time on 2027-01-15? Which gate?", "Is my flight SK203 delayed on 2027-01-15?"),
        (
            _matched("flight-status"),
            {"type": "tool_called", "tool": "flight_status", "arguments": {"date": "2027-01-15"}},
        ),
    ),
    Topic(
        "seat",
        ("I want to change my seat to a window seat.", "Can I choose a seat with more legroom on my flight?"),
        (_matched("seat-change"), {"type": "guideline_not_matched", "guideline": "change-fee"}),
        "The agent explains that seats can be chosen in Manage Booking",
    ),
    Topic(
        "name-correction",
        (
            "I need to correct the spelling of a passenger's name on my booking.",
            "The passenger name on the ticket is misspelled, I want to correct the spelling.",
        ),
        (_matched("name-correction"),),
        "The agent says name corrections can be made in Manage Booking",
    ),
    Topic(
        "cancelled",
        (
            "My flight was cancelled this morning, what are my options?",
            "I received a cancellation notice, my flight SK201 was cancelled.",
        ),
        (_matched("cancelled-flight-options"),),
    ),
    Topic(
        "compensation",
        (
            "I will take legal action unless I get compensation under EU261 for the delay.",
            "Under EU261 I want compensation for the delay and cancellation, or I take legal action.",
        ),
        (_matched("compensation-claims"), {"type": "reply_not_contains", "text": "EUR"}),
        "The agent explains that the claims team assesses compensation claims",
    ),
    Topic(
        "delay",
        ("My flight is delayed by more than three hours, what care do I get?",),
        (_matched("delay-care"),),
    ),
    Topic(
        "rebooking",
        ("I want to move my flight to another date.", "Can I change my flight? I booked a Standard fare."),
        (
            {"type": "journey_entered", "journey": "rebooking"},
            {"type": "tool_not_called", "tool": "rebook_flight", "note": "never without the customer's yes"},
        ),
    ),
    Topic(
        "greeting",
        ("Hello! I have a question about my trip.", "Good morning, I need some help with my trip."),
        ({"type": "reply_not_contains", "text": "as an AI"},),
    ),
    Topic(
        "upset",
        (
            "This is ridiculous, I am so frustrated and angry with Skyway!",
            "I am angry and frustrated, nobody is helping me with my trip.",
        ),
        ({"type": "reply_not_contains", "text": "calm down"},),
    ),
    Topic(HANDOFF, ("I want to speak to a person, please.",), ({"type": "tool_called", "tool": "handoff"},)),
)

BOOKING = {"found": True, "booking_reference": "QX82LM", "fare": "standard", "status": "confirmed"}
CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"name": "Maria Lopez", "tags": ["vip"]},
    {"name": "James Carter", "tags": ["frequent-flyer"]},
    {"name": "Ana Ruiz", "tags": []},
    {"name": "Tom Baker", "tags": []},
)

SIMULATIONS: tuple[dict[str, Any], ...] = (
    {
        "persona": "A calm traveller whose suitcase did not arrive in Madrid",
        "goal": "report the missing bag and learn what happens next",
        "facts": {"booking reference": "M3BAG9", "bag tag": "SK778812"},
        "opening": "My bag did not arrive in Madrid, it is missing.",
        "max_turns": 3,
    },
    {
        "persona": "A frequent flyer asking for a refund of a Standard fare",
        "goal": "a refund for the ticket",
        "facts": {"booking reference": "QX82LM"},
        "max_turns": 3,
    },
    {
        "persona": "A hurried business traveller",
        "goal": "know whether flight SK101 is on time and its gate",
        "facts": {"flight number": "SK101"},
        "max_turns": 2,
    },
)


def _scripted(number: int, rng: random.Random) -> dict[str, Any]:
    topics = sorted(rng.sample(TOPICS, rng.randint(1, 3)), key=lambda topic: topic.key == HANDOFF)
    turns = [{"message": rng.choice(topic.messages), "assertions": list(topic.assertions)} for topic in topics]
    handoff = topics[-1].key == HANDOFF
    assertions: list[dict[str, Any]] = [
        {"type": "handoff_requested"} if handoff else {"type": "no_handoff"},
        {"type": "tokens_under", "max_tokens": TOKEN_BUDGET},
        {"type": "latency_under", "max_ms": LATENCY_BUDGET_MS},
    ]
    criteria = [topic.criterion for topic in topics if topic.criterion]
    if number % CRITERION_SHARE == 0 and criteria:
        assertions.append({"type": "criterion", "criterion": criteria[0]})
    case: dict[str, Any] = {
        "key": f"bench-{number:04d}",
        "name": f"Bench case {number}: " + ", ".join(topic.key for topic in topics),
        "tags": ["bench", "scripted", *(topic.key for topic in topics)],
        "customer": rng.choice(CUSTOMERS),
        "turns": turns,
        "assertions": assertions,
    }
    if any(topic.key == "refund-booking" for topic in topics) and number % 2:
        case["mocks"] = [{"tool": "lookup_booking", "arguments": {"booking_reference": "QX82LM"}, "result": BOOKING}]
    return case


def _simulated(number: int, rng: random.Random) -> dict[str, Any]:
    simulation = dict(rng.choice(SIMULATIONS))
    return {
        "key": f"bench-{number:04d}",
        "name": f"Bench case {number}: simulated, {simulation['goal']}",
        "kind": "simulated",
        "tags": ["bench", "simulated"],
        "customer": rng.choice(CUSTOMERS),
        "simulation": simulation,
        "assertions": [{"type": "no_handoff"}, {"type": "tokens_under", "max_tokens": TOKEN_BUDGET}],
    }


def bench_cases(count: int, *, seed: int = 10) -> list[dict[str, Any]]:
    """`count` cases in the suite format (keys bench-0001 ...): one in six simulated, the rest scripted."""
    rng = random.Random(seed)
    return [
        _simulated(number, rng) if number % SIMULATED_SHARE == 0 else _scripted(number, rng)
        for number in range(1, count + 1)
    ]
