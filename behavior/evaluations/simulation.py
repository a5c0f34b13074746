"""The two LLM roles of an evaluation, behind the engine's LLM port: the simulated customer (persona, goal, ordered
milestones, known facts) and the judge of criteria written in plain words. Each call returns a validated pydantic
object. The prompts carry marker lines (GOAL:, FACT:, MILESTONE:, CRITERION:) that the test suite's fake model
reads. Pure Python: no Django."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from behavior.engine.ports import LLM, LLMCallRecord, LLMMessage, LLMRequest

SIMULATION_PURPOSE = "simulated_customer"
JUDGE_PURPOSE = "judge"
TRANSCRIPT_MAX_CHARS = 12_000
MESSAGE_MAX_CHARS = 2000


class SimulatedCustomerTurn(BaseModel):
    """The simulated customer's next move."""

    rationale: str = Field(description="Where the conversation stands against the goal and the milestones")
    milestones_reached: list[int] = Field(
        default_factory=list, description="Numbers (1-based) of the milestones reached so far"
    )
    goal_reached: bool = Field(description="The agent has done what the customer wanted")
    abandoned: bool = Field(description="The customer gives up: the agent cannot or will not help")
    message: str = Field(default="", description="The customer's next message; empty when the goal is reached")


class JudgeVerdict(BaseModel):
    """Whether the conversation meets one criterion."""

    rationale: str = Field(description="The evidence from the transcript, quoted, for and against")
    passed: bool = Field(description="True only when the criterion is clearly met")


def transcript_text(turns: Sequence[Mapping[str, Any]], *, max_chars: int = TRANSCRIPT_MAX_CHARS) -> str:
    """CUSTOMER:/AGENT: lines of the turns so far (the oldest cut first when too long)."""
    lines: list[str] = []
    for turn in turns:
        lines.append(f"CUSTOMER: {' '.join(str(turn.get('customer') or '').split())}")
        reply = " ".join(str(turn.get("reply") or "").split())
        lines.append(f"AGENT: {reply}" if reply else "AGENT: (no reply)")
    text = "\n".join(lines)
    return text if len(text) <= max_chars else "…" + text[-max_chars:]


def simulation_request(
    *, model: str, simulation: Mapping[str, Any], turns: Sequence[Mapping[str, Any]], customer_name: str
) -> LLMRequest:
    facts = "\n".join(f"FACT: {name} = {value}" for name, value in (simulation.get("facts") or {}).items())
    milestones = "\n".join(
        f"MILESTONE {number}: {text}" for number, text in enumerate(simulation.get("milestones") or [], start=1)
    )
    system = "\n".join(
        part
        for part in (
            "You play a customer writing to a company's support agent, to test the agent. Stay in character:"
            " write as the customer would, one short message at a time, and never reveal that you are a test.",
            f"PERSONA: {simulation.get('persona', '')}",
            f"NAME: {customer_name}",
            f"GOAL: {simulation.get('goal', '')}",
            "What you know and give when the agent asks for it (never invent other facts):",
            facts or "FACT: (none)",
            "Checkpoints the conversation should pass, in order:",
            milestones or "MILESTONE: (none)",
            "Each time, say which milestones are reached, whether the goal is reached (the agent did what you"
            " wanted: then write no message), or whether you give up (the agent refuses or goes in circles).",
        )
    )
    history = transcript_text(turns) if turns else "(the conversation has not started: write the first message)"
    user = f"CONVERSATION SO FAR:\n{history}\n\nWrite the customer's next message now."
    return LLMRequest(
        purpose=SIMULATION_PURPOSE,
        model=model,
        messages=(LLMMessage(role="system", content=system), LLMMessage(role="user", content=user)),
        temperature=0.7,
    )


def judge_request(*, model: str, criterion: str, turns: Sequence[Mapping[str, Any]]) -> LLMRequest:
    system = (
        "You judge one conversation between a customer and a support agent against one criterion. Read the"
        " transcript, quote the evidence, and pass it only when the criterion is clearly met by the agent's"
        " replies. Judge the agent, not the customer."
    )
    user = f"CRITERION: {criterion}\n\nTRANSCRIPT:\n{transcript_text(turns)}\n\nIs the criterion met?"
    return LLMRequest(
        purpose=JUDGE_PURPOSE,
        model=model,
        messages=(LLMMessage(role="system", content=system), LLMMessage(role="user", content=user)),
        temperature=0.0,
    )


async def simulated_customer_turn(
    llm: LLM, *, model: str, simulation: Mapping[str, Any], turns: Sequence[Mapping[str, Any]], customer_name: str
) -> tuple[SimulatedCustomerTurn, LLMCallRecord]:
    request = simulation_request(model=model, simulation=simulation, turns=turns, customer_name=customer_name)
    result = await llm.generate(request, SimulatedCustomerTurn)
    value = result.value
    return value.model_copy(update={"message": value.message.strip()[:MESSAGE_MAX_CHARS]}), result.record


async def criterion_judge(
    llm: LLM, *, model: str, criterion: str, turns: Sequence[Mapping[str, Any]]
) -> tuple[JudgeVerdict, LLMCallRecord]:
    result = await llm.generate(judge_request(model=model, criterion=criterion, turns=turns), JudgeVerdict)
    return result.value, result.record
