"""Stages 4 to 6 of the two-pass strategy: the matching hop, resolution, journey moves, tool rounds and the
bounded re-evaluation after tools (at most `max_preparation_iterations` preparation hops in total)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from behavior.engine.journeys import JourneyTracker
from behavior.engine.matching import JourneyAsk, Verdict, matching_hop
from behavior.engine.plan import ActiveGuideline
from behavior.engine.prompts.sections import one_line
from behavior.engine.resolution import Resolution, resolve
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import JourneyStepSelection
from behavior.engine.tools import ProposedCall, ToolRun, proposals_to_calls, tool_calls_run, tool_result_text
from behavior.engine.trace import RelationshipDecision
from behavior.engine.types import Guideline

MAX_TRANSIENT_GUIDELINES = 5
MAX_CHAINED_TOOL_ROUNDS = 3
MAX_REEVALUATED = 24


@dataclass
class Preparation:
    tracker: JourneyTracker
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    resolution: Resolution = field(default_factory=Resolution)
    runs: list[ToolRun] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    transient: list[ActiveGuideline] = field(default_factory=list)
    canned_fields: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False
    superseded: bool = False
    iterations: int = 0

    @property
    def tools_ran(self) -> set[str]:
        return {r.call.tool for r in self.runs if r.status == "ok"}

    def tool_results(self, max_chars: int) -> list[str]:
        return [tool_result_text(r, max_chars=max_chars) for r in self.runs if r.status in ("ok", "error", "timeout")]


async def prepare(
    runtime: TurnRuntime,
    *,
    candidates: Sequence[Guideline],
    scores: Mapping[str, float | None],
    tracker: JourneyTracker,
    after_first_hop: Callable[[], Awaitable[bool]],
) -> Preparation:
    """`after_first_hop()` returns True when the first hop must be redone (the input was censored)."""
    prep = Preparation(tracker=tracker)
    asks = [JourneyAsk(journey=j, current=s, path=tuple(tracker.paths.get(j, [s]))) for j, s in tracker.active.items()]
    verdicts, steps = await matching_hop(runtime, guidelines=candidates, journeys=asks, iteration=1, scores=scores)
    if await after_first_hop():
        runtime.trace.verdicts.clear()
        runtime.trace.batches = 0
        verdicts, steps = await matching_hop(runtime, guidelines=candidates, journeys=asks, iteration=1, scores=scores)
    prep.iterations = 1
    prep.verdicts.update(verdicts)
    calls = _apply_hop(runtime, prep, verdicts=verdicts, steps=steps)
    already: dict[str, ToolRun] = {}
    max_iterations = max(1, runtime.agent.max_preparation_iterations)
    while True:
        ran_now: set[str] = set()
        for _ in range(MAX_CHAINED_TOOL_ROUNDS):
            if not calls:
                break
            if await runtime.ports.cancellation.is_cancelled():
                prep.superseded = True
                return prep
            runs, insights = await tool_calls_run(runtime, calls, already=already)
            prep.runs.extend(runs)
            prep.insights.extend(insights)
            calls = _absorb_runs(runtime, prep, runs)
            ran_now |= {r.call.tool for r in runs if r.status == "ok"}
        if prep.handoff:
            break
        reevaluate = _reevaluation_targets(runtime, prep, ran_now)
        asks = [
            JourneyAsk(journey=j, current=s, path=tuple(tracker.paths.get(j, [s])))
            for j, s in tracker.ongoing.items()
            if j in tracker.needs_step
        ]
        if (not reevaluate and not asks) or prep.iterations >= max_iterations:
            break
        prep.iterations += 1
        results = prep.tool_results(runtime.config.tool_result_max_chars)
        verdicts, steps = await matching_hop(
            runtime,
            guidelines=reevaluate,
            journeys=asks,
            iteration=prep.iterations,
            scores=scores,
            tool_results=results,
        )
        prep.verdicts.update(verdicts)
        calls = _apply_hop(runtime, prep, verdicts=verdicts, steps=steps)
    if prep.runs:
        # A depends_on a tool is met only once the tool has run: settle the active set with the results.
        matched = [k for k, v in prep.verdicts.items() if v.applies]
        assert runtime.index is not None
        prep.resolution = resolve(runtime.index, matched=matched, journeys=tracker.ongoing, tools_ran=prep.tools_ran)
        runtime.trace.decisions = [*prep.resolution.decisions, *_transient_decisions(prep)]
    runtime.trace.iterations = prep.iterations
    return prep


def _apply_hop(
    runtime: TurnRuntime,
    prep: Preparation,
    *,
    verdicts: Mapping[str, Verdict],
    steps: Mapping[str, JourneyStepSelection],
) -> list[ProposedCall]:
    """Journey moves, then resolution over every verdict so far, then the calls the hop proposed."""
    index = runtime.index
    assert index is not None
    tracker = prep.tracker
    calls: list[ProposedCall] = []
    for journey_key, selection in steps.items():
        if journey_key in tracker.positions and journey_key not in tracker.exited:
            calls.extend(tracker.apply(journey_key, selection))
    matched = [k for k, v in prep.verdicts.items() if v.applies]
    prep.resolution = resolve(index, matched=matched, journeys=tracker.ongoing, tools_ran=prep.tools_ran)
    runtime.trace.decisions = [*prep.resolution.decisions, *_transient_decisions(prep)]
    for journey_key, reason in prep.resolution.enter_journeys.items():
        if journey_key not in tracker.exited and journey_key not in tracker.completed:
            calls.extend(tracker.enter(journey_key, reason))
    for key, verdict in verdicts.items():
        guideline = index.matchables.get(key)
        if guideline is None or key not in prep.resolution.active or not verdict.tool_calls:
            continue
        calls.extend(
            proposals_to_calls(verdict.tool_calls, allowed=guideline.tools, source=key, priority=guideline.priority)
        )
    return calls


def _absorb_runs(runtime: TurnRuntime, prep: Preparation, runs: Sequence[ToolRun]) -> list[ProposedCall]:
    """Act on results: handoff, transient guidelines, canned fields, journey tool states. Returns the
    follow-up calls (a journey that moved on to another tool state)."""
    follow_up: list[ProposedCall] = []
    for run in runs:
        if run.status == "invalid":
            continue
        outcome = run.outcome
        if run.status == "ok" and outcome is not None:
            if str(outcome.control.get("mode", "")).lower() == "human":
                if not prep.handoff:
                    runtime.trace.handoff = _handoff_trace(run)
                prep.handoff = True
            for i, item in enumerate(outcome.guidelines[:MAX_TRANSIENT_GUIDELINES]):
                condition, action = (
                    one_line(str(item.get("condition", "")), 300),
                    one_line(str(item.get("action", "")), 400),
                )
                if not action:
                    continue
                prep.transient.append(
                    ActiveGuideline(
                        key=f"tool:{run.call.tool}:{len(prep.transient) + i}",
                        condition=condition or "a tool result asked for it",
                        action=action,
                        rationale=f"added by the {run.call.tool} tool's result",
                        priority=0,
                        criticality="medium",
                        origin=f"added by tool {run.call.tool}",
                        track=False,
                        transient=True,
                    )
                )
            prep.canned_fields.update({str(k): v for k, v in outcome.canned_fields.items()})
            if isinstance(outcome.data, Mapping):
                for k, v in outcome.data.items():
                    if isinstance(v, str | int | float | bool):
                        prep.canned_fields.setdefault(str(k), v)
        for source in run.sources or [run.call.source]:
            if source.startswith("journey:") and "/" in source:
                journey_key, state_key = source[len("journey:") :].split("/", 1)
                follow_up.extend(prep.tracker.after_tool(journey_key, state_key, succeeded=run.status == "ok"))
    runtime.trace.decisions = [*prep.resolution.decisions, *_transient_decisions(prep)]
    return follow_up


def _transient_decisions(prep: Preparation) -> list[RelationshipDecision]:
    return [
        RelationshipDecision(guideline=g.key, action="added", reason=g.origin, kind="tool_result")
        for g in prep.transient
    ]


def _reevaluation_targets(runtime: TurnRuntime, prep: Preparation, ran: set[str]) -> list[Guideline]:
    """Guidelines with a reevaluate_after relationship to a tool that just ran successfully."""
    index = runtime.index
    assert index is not None
    keys: list[str] = []
    for tool in sorted(ran):
        keys.extend(sorted(index.reevaluate_after.get(tool, ())))
    in_scope = [k for k in dict.fromkeys(keys) if index.in_scope(k, prep.tracker.ongoing)]
    return [index.matchables[k] for k in in_scope[:MAX_REEVALUATED]]


def _handoff_trace(run: ToolRun) -> dict[str, Any]:
    """Which tool handed the session over, on behalf of which guideline or journey, and why (the result's
    control or data "reason", else the call's "reason" argument)."""
    assert run.outcome is not None
    data = run.outcome.data if isinstance(run.outcome.data, Mapping) else {}
    reason = run.outcome.control.get("reason") or data.get("reason") or run.arguments.get("reason") or ""
    return {
        "tool": run.call.tool,
        "source": ", ".join(run.sources) or run.call.source,
        "reason": one_line(str(reason), 500),
    }
