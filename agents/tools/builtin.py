"""Tools every Decorum server registers, whatever DECORUM_TOOL_MODULES says. `handoff`: give it to a guideline
("the customer asks to talk to a person") and its result hands the conversation to a human operator."""

from __future__ import annotations

from agents.tools.registry import tool
from behavior.engine.ports import ToolOutcome

HANDOFF_REASON_MAX_CHARS = 500


@tool(name="handoff")
def handoff(reason: str) -> ToolOutcome:
    """Hand the conversation over to a human colleague: the agent stops replying until one hands it back.

    Args:
        reason: Why a human is needed, in one sentence, for the colleague who takes over
    """
    clean = " ".join(str(reason or "").split())[:HANDOFF_REASON_MAX_CHARS]
    return ToolOutcome(data={"handed_off": True, "reason": clean}, control={"mode": "human", "reason": clean})
