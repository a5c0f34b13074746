"""What the reply must carry out, assembled after matching, resolution, journeys and tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from behavior.engine.types import CannedResponse


@dataclass(frozen=True)
class ActiveGuideline:
    key: str
    condition: str
    action: str | None
    rationale: str
    priority: int
    criticality: str
    origin: str  # "matched" | "entailed by <key>" | "added by tool <name>"
    track: bool = True
    continuous: bool = False
    transient: bool = False  # added by a tool result for this turn only


@dataclass(frozen=True)
class JourneyStepView:
    journey: str
    title: str
    state: str
    kind: str
    action: str | None
    completed: bool = False


@dataclass
class Clarification:
    source: str
    condition: str
    options: list[tuple[str, str]]  # (guideline key, what it is about)


@dataclass
class ReplyPlan:
    guidelines: list[ActiveGuideline] = field(default_factory=list)
    journey_steps: list[JourneyStepView] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    canned_fields: dict[str, Any] = field(default_factory=dict)
    canned_candidates: list[CannedResponse] = field(default_factory=list)
    clarification: Clarification | None = None
    handoff: bool = False

    @property
    def actionable(self) -> list[ActiveGuideline]:
        return [g for g in self.guidelines if g.action]
