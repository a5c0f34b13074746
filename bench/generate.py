"""Generated but realistic behavior documents (docs/behavior-format.md) of any size (the conversations the
bench plays against them are in `bench.conversations`).

Every document has the same airline-support core (10 guidelines incl. observations, a tool-enabled
guideline, relationships of several kinds, two journeys with tool states, a tool-fed context variable,
glossary and canned responses) plus filler guidelines from eight domains, written from templates
(`bench.domains`), with their own relationships, tools, glossary terms and canned responses. The same
(size, seed) always gives the same document."""

from __future__ import annotations

import random
import re
from typing import Any

from bench.domains import (
    ACTION_TEMPLATES,
    CONDITION_TEMPLATES,
    DOMAINS,
    OBSERVATION_TEMPLATES,
    QUALIFIERS,
    Domain,
    tool_entry,
)

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def guideline(
    key: str,
    condition: str,
    action: str | None,
    *,
    title: str = "",
    criticality: str = "medium",
    priority: int = 0,
    continuous: bool = False,
    tags: list[str] | None = None,
    tools: list[str] | None = None,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "title": title or key.replace("-", " ").capitalize(),
        "condition": condition,
        "action": action,
        "description": "",
        "criticality": criticality,
        "priority": priority,
        "enabled": True,
        "track": True,
        "continuous": continuous,
        "tags": tags or [],
        "tools": tools or [],
        "labels": labels or [],
        "metadata": {},
    }


def relationship(kind: str, source: tuple[str, str], target: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": kind,
        "source": {"type": source[0], "ref": source[1]},
        "target": {"type": target[0], "ref": target[1]},
    }


def state(
    key: str,
    kind: str = "chat",
    action: str | None = None,
    *,
    tool: str | None = None,
    initial: bool = False,
    canned: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "action": action,
        "tool": tool,
        "initial": initial,
        "tools": [],
        "canned_responses": canned or [],
    }


def transition(source: str, target: str, condition: str | None = None) -> dict[str, Any]:
    return {"source": source, "target": target, "condition": condition}


def canned(
    key: str,
    template: str,
    *,
    fields: list[dict[str, str]] | None = None,
    signals: list[str] | None = None,
    guidelines: list[str] | None = None,
    journey_states: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "template": template,
        "fields": fields or [],
        "signals": signals or [],
        "tags": [],
        "guidelines": guidelines or [],
        "journey_states": journey_states or [],
    }


AGENT = {
    "name": "Skyway Support",
    "description": (
        "You are Skyway Airlines' customer support assistant. You help customers with bookings, flight status, "
        "changes, baggage, refunds and loyalty questions, and with the partner services sold with a trip. "
        "You are warm, calm and precise and never invent data: you use your tools for facts."
    ),
    "model": "gpt-4o-mini",
    "temperature": 0.2,
    "llm_profile": "default",
    "composition_mode": "fluid",
    "no_match_reply": "Sorry, I can't help with that here.",
    "max_preparation_iterations": 2,
    "moderation": False,
    "preamble": False,
    "tags": ["airline"],
}

LOOKUP_BOOKING = tool_entry(
    "lookup_booking",
    "Look up a booking by its reference: status, flights, passengers, bag tags",
    ("booking_reference", "str", True),
)
CORE_TOOLS = (
    LOOKUP_BOOKING,
    tool_entry(
        "file_baggage_claim",
        "File a missing or damaged baggage claim (Property Irregularity Report)",
        ("booking_reference", "str", True),
        ("bag_tag", "str", True),
        ("description", "str", True),
        consequential=True,
    ),
    tool_entry(
        "search_flights",
        "Flights available for a rebooking",
        ("booking_reference", "str", True),
        ("travel_date", "date", True),
    ),
    tool_entry("get_loyalty_profile", "The customer's loyalty tier and points", ("customer_id", "str", True)),
)


def core_guidelines() -> list[dict[str, Any]]:
    return [
        guideline(
            "greeting",
            "The customer greets the agent or says hello",
            "Greet the customer by name and ask how you can help with their trip",
        ),
        guideline(
            "baggage-allowance",
            "The customer asks how much baggage they can bring on their flight",
            "State the allowance for their fare: Basic includes one cabin bag up to 8 kg, Standard adds one checked bag up to 23 kg, Flex includes two checked bags",
            labels=["baggage"],
        ),
        guideline(
            "booking-status",
            "The customer asks about the status of their booking or flight",
            "Look up the booking and tell them its status, the flight times and the passengers",
            tools=["lookup_booking"],
        ),
        guideline("reports-missing-bag", "The customer reports a missing or damaged bag that did not arrive", None),
        guideline(
            "refund-request",
            "The customer asks for a refund of a ticket, seat or upgrade",
            "Explain that unused seat and upgrade fees are refunded to the original card within 14 days, and offer to start the refund",
        ),
        guideline("gold-member", "The customer is a Skyway Gold member", None),
        guideline(
            "gold-refund",
            "A Skyway Gold member asks for a refund",
            "Tell them Gold refunds are processed within 3 days and start the refund right away",
            priority=10,
        ),
        guideline(
            "flight-delay",
            "The customer complains about a delayed or cancelled flight",
            "Apologise for the disruption, explain the care Skyway offers (meals, hotel) and that the claims team decides any compensation",
            criticality="high",
        ),
        guideline("customer-frustrated", "The customer is frustrated or upset", None, continuous=True),
        guideline(
            "baggage-essentials",
            "The customer needs to buy essentials like toiletries or clothes while their bag is missing",
            "Tell them Skyway reimburses essentials up to 50 EUR a day for up to 5 days, against receipts",
            tags=["journey:baggage-claim"],
        ),
    ]


CORE_RELATIONSHIPS = [
    relationship("overrides", ("guideline", "gold-refund"), ("guideline", "refund-request")),
    relationship("depends_on", ("guideline", "gold-refund"), ("guideline", "gold-member")),
    relationship("reevaluate_after", ("guideline", "flight-delay"), ("tool", "lookup_booking")),
    relationship("entails", ("guideline", "flight-delay"), ("guideline", "greeting")),
]


def core_journeys() -> list[dict[str, Any]]:
    baggage = {
        "key": "baggage-claim",
        "title": "Report missing or damaged baggage",
        "description": "Collect what the baggage team needs and file a Property Irregularity Report.",
        "triggers": ["reports-missing-bag"],
        "conditions": [],
        "tags": [],
        "states": [
            state(
                "ask-details",
                action="Ask for the booking reference and the bag tag number from the baggage receipt",
                initial=True,
            ),
            state("lookup", "tool", "Look up the booking to check the bag tag", tool="lookup_booking"),
            state("describe-bag", action="Ask for a short description of the bag: colour, brand and size"),
            state("file-claim", "tool", "File the baggage claim", tool="file_baggage_claim"),
            state(
                "share-reference",
                action="Give the claim reference and explain that updates come by email",
                canned=["baggage-claim-filed"],
            ),
            state("done", "end"),
        ],
        "transitions": [
            transition("ask-details", "lookup", "The customer gave the booking reference and the bag tag number"),
            transition("lookup", "describe-bag"),
            transition("describe-bag", "file-claim", "The customer described the suitcase: colour, brand and size"),
            transition("file-claim", "share-reference"),
            transition("share-reference", "done"),
        ],
    }
    rebooking = {
        "key": "rebooking",
        "title": "Rebook a flight",
        "description": "Move the customer to another flight.",
        "triggers": [],
        "conditions": ["The customer wants to change or rebook their flight to another date"],
        "tags": [],
        "states": [
            state("ask-booking", action="Ask for the booking reference and the new travel date", initial=True),
            state("find-options", "tool", "Search the available flights", tool="search_flights"),
            state("offer-options", action="Offer the available flights and ask which one they prefer"),
            state("confirm", action="Confirm the chosen flight and any fare difference, and ask for a final yes"),
            state("done", "end"),
        ],
        "transitions": [
            transition(
                "ask-booking", "find-options", "The customer gave the booking reference and the new travel date"
            ),
            transition("find-options", "offer-options"),
            transition("offer-options", "confirm", "The customer chose or picked one of the flights"),
            transition("confirm", "done", "The customer confirmed the change"),
        ],
    }
    return [baggage, rebooking]


CORE_GLOSSARY = [
    {
        "name": "PNR",
        "synonyms": ["booking reference"],
        "description": "The six-character booking reference, e.g. ABC123",
        "tags": [],
    },
    {
        "name": "PIR",
        "synonyms": ["Property Irregularity Report"],
        "description": "The report filed for a missing or damaged bag",
        "tags": [],
    },
    {
        "name": "bag tag",
        "synonyms": ["baggage receipt number"],
        "description": "The BG number on the baggage receipt",
        "tags": [],
    },
]

CORE_VARIABLES = [
    {
        "name": "loyalty_tier",
        "description": "The customer's Skyway loyalty tier",
        "tool": "get_loyalty_profile",
        "freshness_seconds": 3600,
        "tags": [],
        "values": [{"scope": "default", "key": None, "value": "standard"}],
    },
    {
        "name": "home_airport",
        "description": "The customer's usual departure airport",
        "tool": None,
        "freshness_seconds": None,
        "tags": [],
        "values": [
            {"scope": "default", "key": None, "value": "London Heathrow"},
            {"scope": "customer_tag", "key": "vip", "value": "London City"},
        ],
    },
]

CORE_CANNED = [
    canned(
        "greeting-reply",
        "Hello {{ customer.name }}! How can I help with your trip today?",
        signals=["hi", "hello there"],
        guidelines=["greeting"],
    ),
    canned(
        "baggage-claim-filed",
        "Your claim {{ claim_reference }} is filed. The baggage team will email you updates.",
        fields=[{"name": "claim_reference", "kind": "tool", "description": "from file_baggage_claim"}],
        journey_states=["baggage-claim/share-reference"],
    ),
    canned(
        "refund-started",
        "I have started your refund; it reaches your card within {{ days }} days.",
        fields=[{"name": "days", "kind": "generative", "description": "processing days"}],
        guidelines=["refund-request"],
    ),
    canned("anything-else", "Is there anything else I can help you with?", signals=["thanks, that's all"]),
]


def behavior_document(size: int, *, seed: int = 7, composition_mode: str = "fluid", name: str = "") -> dict[str, Any]:
    """A valid document with exactly `size` guidelines (at least the 10 of the core)."""
    core = core_guidelines()
    if size < len(core):
        raise ValueError(f"size must be at least {len(core)} (the core)")
    rng = random.Random(f"{seed}:{size}")
    fillers = _filler_guidelines(size - len(core), rng)
    document = _document(
        name or f"Skyway Support ({size} guidelines)",
        composition_mode=composition_mode,
        guidelines=core + [g for g, _ in fillers],
        relationships=list(CORE_RELATIONSHIPS) + _filler_relationships(fillers, rng),
        journeys=core_journeys() + _filler_journeys(fillers, rng),
        glossary=list(CORE_GLOSSARY) + _filler_glossary(size),
        variables=list(CORE_VARIABLES),
        canned_responses=list(CORE_CANNED) + _filler_canned(fillers, rng),
        tools=list(CORE_TOOLS) + _filler_tools(fillers),
    )
    return document


def reference_document(size: int, *, seed: int = 11) -> dict[str, Any]:
    """The reference agent of docs/architecture.md §10: 5 guidelines, one tool, one journey and one glossary
    term, then fillers up to `size` guidelines."""
    keep = {"greeting", "baggage-allowance", "booking-status", "refund-request", "flight-delay"}
    core = [g for g in core_guidelines() if g["key"] in keep]
    rng = random.Random(f"reference:{seed}:{size}")
    fillers = _filler_guidelines(max(0, size - len(core)), rng, with_tools=False)
    journey = core_journeys()[1]
    journey["states"][1] = state("find-options", action="Tell them the flights available on that date")
    return _document(
        f"Reference agent ({size} guidelines)",
        composition_mode="fluid",
        guidelines=core + [g for g, _ in fillers],
        relationships=[],
        journeys=[journey],
        glossary=[CORE_GLOSSARY[0]],
        variables=[],
        canned_responses=[],
        tools=[LOOKUP_BOOKING],
    )


def single_pass_document() -> dict[str, Any]:
    """A small agent with no tools and no journeys: the single-pass strategy's home ground."""
    keep = {"greeting", "baggage-allowance", "refund-request", "flight-delay", "customer-frustrated"}
    core = [g for g in core_guidelines() if g["key"] in keep]
    core.append(
        guideline(
            "seat-fees",
            "The customer asks what seat selection costs",
            "Say seats cost 12 to 35 EUR depending on the row, and are free on Flex fares",
        )
    )
    return _document(
        "Skyway FAQ",
        composition_mode="fluid",
        guidelines=core,
        relationships=[],
        journeys=[],
        glossary=list(CORE_GLOSSARY[:1]),
        variables=[],
        canned_responses=[],
        tools=[],
    )


def _document(
    name: str,
    *,
    composition_mode: str,
    guidelines: list[dict[str, Any]],
    relationships: list[dict[str, Any]],
    journeys: list[dict[str, Any]],
    glossary: list[dict[str, Any]],
    variables: list[dict[str, Any]],
    canned_responses: list[dict[str, Any]],
    tools: list[dict[str, Any]],
) -> dict[str, Any]:
    journey_keys = {j["key"] for j in journeys}
    tags = {"airline"} | {t for g in guidelines for t in g["tags"]} | {f"journey:{k}" for k in journey_keys}
    tags |= {r[end]["ref"] for r in relationships for end in ("source", "target") if r[end]["type"] == "tag"}
    tags |= {value["key"] for v in variables for value in v["values"] if value["scope"] == "customer_tag"}
    return {
        "format": "decorum.behavior",
        "schema_version": 1,
        "agent": {**AGENT, "name": name, "composition_mode": composition_mode},
        "tags": [{"name": t} for t in sorted(tags)],
        "guidelines": guidelines,
        "relationships": relationships,
        "journeys": journeys,
        "glossary": glossary,
        "context_variables": variables,
        "canned_responses": canned_responses,
        "tool_services": [],
        "tools": tools,
    }


# ---------------------------------------------------------------------- fillers


def _filler_guidelines(
    count: int, rng: random.Random, *, with_tools: bool = True
) -> list[tuple[dict[str, Any], Domain]]:
    """`count` distinct guidelines spread over the domains: ~12% observations, ~4% high criticality,
    ~6% tool-enabled, tagged with their domain."""
    combos = [(d, t, q) for d in DOMAINS for t in d.topics for q in range(len(QUALIFIERS))]
    rng.shuffle(combos)
    result: list[tuple[dict[str, Any], Domain]] = []
    used: set[str] = set()
    index = 0
    while len(result) < count:
        domain, topic, qualifier_index = combos[index % len(combos)]
        round_ = index // len(combos)
        index += 1
        qualifier = QUALIFIERS[qualifier_index]
        observation = rng.random() < 0.12
        templates = OBSERVATION_TEMPLATES if observation else CONDITION_TEMPLATES
        template = templates[(round_ + rng.randrange(len(templates))) % len(templates)]
        condition = template.format(topic=topic, qualifier=qualifier)
        if condition in used:
            continue
        used.add(condition)
        action = None if observation else rng.choice(ACTION_TEMPLATES).format(topic=topic, identifier=domain.identifier)
        key = f"{domain.name}-{slug(topic)}-{len(result) + 1}"
        tools = [rng.choice(domain.tools)["name"]] if with_tools and not observation and rng.random() < 0.06 else []
        result.append(
            (
                guideline(
                    key,
                    condition,
                    action,
                    title=f"{topic[:1].upper()}{topic[1:]}{qualifier}",
                    criticality="high" if rng.random() < 0.04 else rng.choice(("low", "medium", "medium")),
                    priority=rng.choice((0, 0, 0, 1, 2, 5)),
                    tags=[domain.name],
                    tools=tools,
                    labels=[slug(topic)],
                ),
                domain,
            )
        )
    return result


def _filler_relationships(fillers: list[tuple[dict[str, Any], Domain]], rng: random.Random) -> list[dict[str, Any]]:
    """About one relationship per ten guidelines, always from a later to an earlier guideline of the
    same domain (so the graphs that must be acyclic are)."""
    by_domain: dict[str, list[dict[str, Any]]] = {}
    relationships = []
    for item, domain in fillers:
        earlier = by_domain.setdefault(domain.name, [])
        if earlier and rng.random() < 0.1:
            target = rng.choice(earlier[-40:])
            kind = rng.choices(
                ("overrides", "entails", "depends_on", "depends_on_any", "disambiguates"), weights=(40, 25, 15, 10, 10)
            )[0]
            if kind == "disambiguates" and item["action"] is not None:
                kind = "overrides"
            if kind == "entails" and target["action"] is None:
                kind = "depends_on"
            relationships.append(relationship(kind, ("guideline", item["key"]), ("guideline", target["key"])))
        earlier.append(item)
    domains = sorted({d.name for _, d in fillers})
    if len(domains) >= 2:
        relationships.append(relationship("overrides", ("tag", domains[0]), ("tag", domains[1])))
    return relationships


def _filler_journeys(fillers: list[tuple[dict[str, Any], Domain]], rng: random.Random) -> list[dict[str, Any]]:
    """One extra four-state journey per 250 guidelines, started by a free-text condition."""
    journeys = []
    for number in range(len(fillers) // 250):
        domain = DOMAINS[number % len(DOMAINS)]
        topic = domain.topics[(number * 5) % len(domain.topics)]
        key = f"{domain.name}-{slug(topic)}-flow-{number + 1}"
        journeys.append(
            {
                "key": key,
                "title": f"Sort out {topic}",
                "description": f"A guided procedure for {topic}.",
                "triggers": [],
                "conditions": [f"The customer wants to sort out {topic} step by step"],
                "tags": [],
                "states": [
                    state("identify", action=f"Ask for the {domain.identifier}", initial=True),
                    state("details", action=f"Ask what exactly is wrong with {topic}"),
                    state("resolve", action=f"Explain the resolution for {topic} and confirm"),
                    state("done", "end"),
                ],
                "transitions": [
                    transition("identify", "details", f"The customer gave the {domain.identifier}"),
                    transition("details", "resolve", "The customer explained the problem"),
                    transition("resolve", "done"),
                ],
            }
        )
    rng.shuffle(journeys)
    return journeys


def _filler_glossary(size: int) -> list[dict[str, Any]]:
    terms = [(name, synonyms, description) for d in DOMAINS for name, synonyms, description in d.glossary]
    count = min(len(terms), size // 10)
    return [{"name": n, "synonyms": list(s), "description": d, "tags": []} for n, s, d in terms[:count]]


def _filler_canned(fillers: list[tuple[dict[str, Any], Domain]], rng: random.Random) -> list[dict[str, Any]]:
    """One canned response per 20 guidelines (at most 250), attached to its guideline."""
    responses = []
    for item, domain in fillers[::20][:250]:
        if item["action"] is None:
            continue
        topic = item["labels"][0].replace("-", " ")
        responses.append(
            canned(
                f"{item['key']}-reply",
                f"Here is what applies to {topic}: {{{{ details }}}}. Can I help with anything else?",
                fields=[{"name": "details", "kind": "generative", "description": f"the {domain.name} policy details"}],
                signals=[f"question about {topic}"],
                guidelines=[item["key"]],
            )
        )
    return responses


def _filler_tools(fillers: list[tuple[dict[str, Any], Domain]]) -> list[dict[str, Any]]:
    used = {name for item, _ in fillers for name in item["tools"]}
    return [tool for domain in DOMAINS for tool in domain.tools if tool["name"] in used]
