"""Stage 4, matching: one hop of parallel structured calls (guideline batches plus one step-selection
call per active journey). Re-evaluation after tools uses the same hop with purpose "reevaluation"."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from behavior.engine.prompts.matching import journey_prompt, matching_prompt
from behavior.engine.prompts.sections import listed_id
from behavior.engine.runtime import TurnRuntime, gather_or_cancel
from behavior.engine.schemas import GuidelineVerdict, JourneyStepSelection, MatchingBatch, ToolCallProposal
from behavior.engine.trace import VerdictTrace
from behavior.engine.types import Guideline


@dataclass
class Verdict:
    key: str
    applies: bool
    facts: str
    rationale: str
    tool_calls: list[ToolCallProposal] = field(default_factory=list)
    iteration: int = 1


@dataclass(frozen=True)
class JourneyAsk:
    journey: str
    current: str
    path: tuple[str, ...]


def batches(items: Sequence[Guideline], size: int) -> list[list[Guideline]]:
    """Evenly sized batches of at most `size` (10 items with size 8 → 5 + 5, not 8 + 2)."""
    if not items:
        return []
    count = math.ceil(len(items) / max(1, size))
    per = math.ceil(len(items) / count)
    return [list(items[i : i + per]) for i in range(0, len(items), per)]


async def matching_hop(
    runtime: TurnRuntime,
    *,
    guidelines: Sequence[Guideline],
    journeys: Sequence[JourneyAsk],
    iteration: int,
    scores: Mapping[str, float | None],
    tool_results: Sequence[str] = (),
) -> tuple[dict[str, Verdict], dict[str, JourneyStepSelection]]:
    """Run one hop; raises LLMError when a call fails (the turn then fails politely)."""
    if not guidelines and not journeys:
        return {}, {}
    hop = runtime.next_hop()
    purpose = "matching" if iteration == 1 else "reevaluation"
    groups = batches(guidelines, runtime.config.matching_batch_size)
    batch_offset = runtime.trace.batches
    runtime.trace.batches += len(groups)
    calls: list[Awaitable[BaseModel]] = [
        runtime.generate(
            matching_prompt(runtime, group, purpose=purpose, tool_results=tool_results), MatchingBatch, hop=hop
        )
        for group in groups
    ]
    calls += [
        runtime.generate(
            journey_prompt(
                runtime,
                runtime.snapshot.journey_by_key[ask.journey],
                current=ask.current,
                path=ask.path,
                tool_results=tool_results,
            ),
            JourneyStepSelection,
            hop=hop,
        )
        for ask in journeys
    ]
    results = await gather_or_cancel(*calls)
    verdicts: dict[str, Verdict] = {}
    for number, (group, result) in enumerate(zip(groups, results[: len(groups)], strict=True), start=batch_offset + 1):
        assert isinstance(result, MatchingBatch)
        verdicts.update(
            verdicts_from(runtime, result.verdicts, group, iteration=iteration, batch=number, scores=scores)
        )
    steps: dict[str, JourneyStepSelection] = {}
    for ask, result in zip(journeys, results[len(groups) :], strict=True):
        assert isinstance(result, JourneyStepSelection)
        steps[ask.journey] = result
    return verdicts, steps


def verdicts_from(
    runtime: TurnRuntime,
    answers: Sequence[GuidelineVerdict],
    guidelines: Sequence[Guideline],
    *,
    iteration: int,
    batch: int,
    scores: Mapping[str, float | None],
) -> dict[str, Verdict]:
    """One verdict per listed guideline (a missing answer counts as "does not apply"), traced."""
    by_id: dict[str, GuidelineVerdict] = {}
    for answer in answers:
        by_id.setdefault(listed_id(answer.id), answer)
    verdicts: dict[str, Verdict] = {}
    for guideline in guidelines:
        found = by_id.get(guideline.key)
        if found is not None:
            verdict = Verdict(
                key=guideline.key,
                applies=bool(found.applies),
                facts=found.facts[:1000],
                rationale=found.rationale[:1000],
                tool_calls=list(found.tool_calls) if found.applies else [],
                iteration=iteration,
            )
        else:
            verdict = Verdict(
                key=guideline.key,
                applies=False,
                facts="",
                rationale="no verdict returned for this id",
                iteration=iteration,
            )
        verdicts[guideline.key] = verdict
        runtime.trace.verdicts.append(
            verdict_trace(runtime, guideline, verdict, batch=batch, score=scores.get(guideline.key))
        )
    return verdicts


def verdict_trace(
    runtime: TurnRuntime, guideline: Guideline, verdict: Verdict, *, batch: int, score: float | None
) -> VerdictTrace:
    return VerdictTrace(
        key=guideline.key,
        applies=verdict.applies,
        facts=verdict.facts,
        rationale=verdict.rationale,
        score=score,
        batch=batch,
        iteration=verdict.iteration,
        previously_applied=guideline.track and runtime.state.applied_offset(guideline.key) is not None,
        continuous=guideline.continuous,
        observation=guideline.is_observation,
    )
