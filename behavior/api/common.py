"""What the behavior API modules share: typed path ids and the agent lookup."""

from __future__ import annotations

from typing import Annotated

from ninja import Path

from agents.models import Agent
from behavior.services.rows import row_get
from config.api_schemas import MAX_ID

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def agent_get(agent_id: int) -> Agent:
    """The agent, or NotFound (404)."""
    return row_get(Agent.objects.all(), agent_id, what="agent")
