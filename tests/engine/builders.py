"""Small builders for engine tests: snapshots, conversations, generated behavior models, one-call turns."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from behavior.engine.turn import run_turn
from behavior.engine.types import (
    AgentSettings,
    CannedResponse,
    ContextVariable,
    CustomerInfo,
    EngineConfig,
    EntityRef,
    GlossaryTerm,
    Guideline,
    Interaction,
    InteractionEvent,
    Journey,
    Relationship,
    SessionState,
    Snapshot,
    Tool,
    TurnResult,
)
from tests.engine.fakes import FakeEmbedder, FakeToolRunner, RecordingEmitter, ScriptedLLM, make_ports


def g(key: str, condition: str, action: str | None = None, **fields: Any) -> Guideline:
    return Guideline(key=key, condition=condition, action=action, **fields)


def rel(
    kind: str, source: str, target: str, *, source_type: str = "guideline", target_type: str = "guideline"
) -> Relationship:
    return Relationship(
        kind=kind, source=EntityRef(type=source_type, ref=source), target=EntityRef(type=target_type, ref=target)
    )


def snapshot(
    *,
    guidelines: tuple[Guideline, ...] | list[Guideline] = (),
    relationships: tuple[Relationship, ...] | list[Relationship] = (),
    journeys: tuple[Journey, ...] | list[Journey] = (),
    glossary: tuple[GlossaryTerm, ...] | list[GlossaryTerm] = (),
    variables: tuple[ContextVariable, ...] | list[ContextVariable] = (),
    canned: tuple[CannedResponse, ...] | list[CannedResponse] = (),
    tools: tuple[Tool, ...] | list[Tool] = (),
    **agent: Any,
) -> Snapshot:
    settings = AgentSettings(
        name=agent.pop("name", "Skyway Support"),
        description=agent.pop("description", "Skyway Airlines' support assistant."),
        **agent,
    )
    return Snapshot(
        agent=settings,
        guidelines=tuple(guidelines),
        relationships=tuple(relationships),
        journeys=tuple(journeys),
        glossary=tuple(glossary),
        variables=tuple(variables),
        canned_responses=tuple(canned),
        tools=tuple(tools),
    )


def conversation(*texts: str, session_id: str = "session-1", customer: CustomerInfo | None = None) -> Interaction:
    """Alternating messages, the customer first, offsets 0.."""
    events = tuple(
        InteractionEvent(offset=i, source="customer" if i % 2 == 0 else "agent", kind="message", text=text)
        for i, text in enumerate(texts)
    )
    return Interaction(session_id=session_id, customer=customer or CustomerInfo(id="c-1", name="Ada"), events=events)


def followed_by(interaction: Interaction, *texts: str) -> Interaction:
    """The interaction with the given messages appended (agent first if the last was the customer's)."""
    events = list(interaction.events)
    for text in texts:
        last = events[-1] if events else None
        source = "agent" if last is not None and last.source == "customer" else "customer"
        events.append(InteractionEvent(offset=len(events), source=source, kind="message", text=text))
    return replace(interaction, events=tuple(events))


def with_reply(interaction: Interaction, result: TurnResult, next_customer_text: str) -> Interaction:
    reply = next((m.text for m in result.messages if not m.data.get("preamble")), "(no reply)")
    events = list(interaction.events)
    events.append(InteractionEvent(offset=len(events), source="agent", kind="message", text=reply))
    events.append(InteractionEvent(offset=len(events), source="customer", kind="message", text=next_customer_text))
    return replace(interaction, events=tuple(events))


@dataclass
class Turn:
    result: TurnResult
    llm: ScriptedLLM
    emitter: RecordingEmitter
    tools: FakeToolRunner

    @property
    def trace(self) -> dict[str, Any]:
        return dict(self.result.trace)

    @property
    def reply(self) -> str | None:
        replies = self.emitter.replies
        return replies[-1]["text"] if replies else None

    def decisions(self) -> list[dict[str, Any]]:
        return list(self.trace["resolution"]["decisions"])

    def composition_prompt(self) -> str:
        calls = (
            self.llm.calls_for("composition")
            or self.llm.calls_for("canned_selection")
            or self.llm.calls_for("single_pass")
        )
        assert calls, "no composition call was made"
        return calls[-1].text


async def turn(
    snap: Snapshot,
    interaction: Interaction,
    *,
    llm: ScriptedLLM | None = None,
    state: SessionState | None = None,
    tools: FakeToolRunner | None = None,
    config: EngineConfig | None = None,
    **ports: Any,
) -> Turn:
    llm = llm or ScriptedLLM()
    emitter = ports.pop("emitter", None) or RecordingEmitter()
    tools = tools or FakeToolRunner()
    result = await run_turn(
        snapshot=snap,
        interaction=interaction,
        state=state or SessionState(),
        ports=make_ports(
            llm=llm, tools=tools, emitter=emitter, embedder=ports.pop("embedder", None) or FakeEmbedder(), **ports
        ),
        config=config,
    )
    return Turn(result=result, llm=llm, emitter=emitter, tools=tools)


# ---------------------------------------------------------------- generated behavior models

_SUBJECTS = [
    "checked baggage",
    "carry-on bag",
    "seat upgrade",
    "window seat",
    "meal preference",
    "vegetarian meal",
    "pet carrier",
    "service animal",
    "wheelchair assistance",
    "unaccompanied minor",
    "lounge access",
    "loyalty points",
    "miles balance",
    "gift card",
    "travel insurance",
    "visa requirements",
    "passport validity",
    "boarding pass",
    "mobile check-in",
    "gate change",
    "connecting flight",
    "layover hotel",
    "lost luggage",
    "damaged suitcase",
    "sports equipment",
    "musical instrument",
    "infant fare",
    "student discount",
    "group booking",
    "corporate account",
    "invoice copy",
    "receipt email",
    "price alert",
    "fare class",
    "standby list",
    "overbooking compensation",
    "wifi onboard",
    "power outlet",
    "entertainment system",
    "duty free",
    "newsletter subscription",
    "password reset",
    "account deletion",
    "privacy data",
    "cookie settings",
    "app crash",
    "payment declined",
    "currency conversion",
    "installment plan",
    "promo code",
]
_INTENTS = [
    "asks about the price of",
    "complains about",
    "wants to add",
    "wants to remove",
    "asks whether they can bring",
    "reports a problem with",
    "asks how to request",
    "wants a discount on",
    "asks for the rules on",
    "is confused about",
    "wants to transfer",
    "asks for the status of",
    "wants to cancel",
    "asks how long it takes to get",
    "thanks the agent for",
    "asks where to find",
    "wants to dispute the charge for",
    "asks about the deadline for",
    "wants to upgrade",
    "wants to pay for",
]
_ACTIONS = [
    "Explain the policy in two sentences",
    "Offer the relevant help page",
    "Apologise and offer to escalate",
    "Ask for the booking reference",
    "Give the current price list",
    "Explain the steps one by one",
    "Confirm the request and summarise it",
    "Suggest the mobile app feature",
    "Offer a callback from a specialist",
]


def generated_guidelines(count: int, *, seed: int = 7) -> list[Guideline]:
    """`count` distinct, varied guidelines over an airline support domain (deterministic)."""
    rng = random.Random(seed)
    combos = [(i, s) for s in _SUBJECTS for i in _INTENTS]
    rng.shuffle(combos)
    guidelines = []
    for n, (intent, subject) in enumerate(combos[:count]):
        guidelines.append(
            Guideline(
                key=f"g-{n:04d}",
                condition=f"The customer {intent} the {subject}",
                action=f"{rng.choice(_ACTIONS)} about the {subject}",
                criticality="high" if n % 97 == 0 else "medium",
            )
        )
    return guidelines
