"""What the behavior API modules share: typed path ids and the agent lookup."""

from __future__ import annotations

from typing import Annotated

from ninja import Path

from agents.selectors import agent_get
from config.api_schemas import MAX_ID

Id = Annotated[int, Path(ge=1, le=MAX_ID)]

__all__ = ["Id", "agent_get"]
