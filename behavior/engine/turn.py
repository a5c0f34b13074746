"""The engine's entry point: one customer turn (docs/architecture.md §3), from context to the post-reply
analysis."""

from __future__ import annotations

import asyncio
import logging
import time

from behavior.engine.analysis import applied_analysis, applied_update
from behavior.engine.composition import canned_candidates, compose_stream, compose_strict, new_message_id
from behavior.engine.context import active_journeys, variables_refresh
from behavior.engine.extras import PreambleTask, censor, moderation_check
from behavior.engine.history import history_build
from behavior.engine.index import snapshot_index
from behavior.engine.journeys import JourneyTracker
from behavior.engine.matching import Verdict
from behavior.engine.plan import ActiveGuideline, ReplyPlan
from behavior.engine.ports import LLMError
from behavior.engine.prepare import Preparation, prepare
from behavior.engine.resolution import Resolution, clarification_insight
from behavior.engine.retrieval import Retrieval, retrieve
from behavior.engine.runtime import TurnRuntime, WaitClock
from behavior.engine.schemas import ModerationVerdict
from behavior.engine.single_pass import single_pass_choice, single_pass_run
from behavior.engine.trace import TurnTrace
from behavior.engine.types import (
    CachedVariable,
    EmittedMessage,
    EngineConfig,
    EnginePorts,
    Interaction,
    SessionState,
    Snapshot,
    TurnOutcome,
    TurnResult,
)

logger = logging.getLogger(__name__)


async def run_turn(
    *,
    snapshot: Snapshot,
    interaction: Interaction,
    state: SessionState,
    ports: EnginePorts,
    config: EngineConfig | None = None,
) -> TurnResult:
    """Run one turn. Everything the customer sees goes through `ports.emitter`; the caller persists the
    emitted events and `TurnResult.state`. Expected failures never raise: they end as outcome "failed"."""
    last = interaction.last_customer_message
    trace = TurnTrace(
        session_id=interaction.session_id,
        customer_offset=last.offset if last else None,
        started_at=ports.clock.now().isoformat(),
    )
    runtime = TurnRuntime(
        snapshot=snapshot,
        interaction=interaction,
        state=state,
        ports=ports,
        config=config or EngineConfig(),
        trace=trace,
    )
    if state.mode == "human":
        # A human operator owns the session: the engine emits nothing and changes nothing.
        trace.strategy, trace.strategy_reason = "none", "the session is in human mode"
        return _result(runtime, "human_mode", [], state)
    turn = _Turn(runtime)
    try:
        return await turn.run()
    except LLMError as exc:
        return await turn.fail(exc, kind="llm")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the customer is told and the trace keeps the error; the task logs it
        logger.exception("engine turn failed for session %s", interaction.session_id)
        return await turn.fail(exc, kind="internal")
    finally:
        await turn.cleanup()


class _Turn:
    def __init__(self, runtime: TurnRuntime) -> None:
        self.runtime = runtime
        self.sent: list[EmittedMessage] = []
        self.replied = False
        self.variable_cache: dict[str, CachedVariable] = dict(runtime.state.variables)
        self.moderation: asyncio.Future[ModerationVerdict | None] | None = None
        self.preamble: PreambleTask | None = None
        self.tracker: JourneyTracker | None = None
        self.handoff = False

    # ------------------------------------------------------------ the pipeline

    async def run(self) -> TurnResult:
        runtime, ports = self.runtime, self.runtime.ports
        snapshot, state, trace, agent = runtime.snapshot, runtime.state, runtime.trace, runtime.agent
        await ports.emitter.status("acknowledged")
        async with runtime.stage("context"):
            positions = active_journeys(snapshot, state.journeys)
            tracker = self.tracker = JourneyTracker.start(snapshot, trace, positions, dict(state.journey_paths))
            trace.journeys_before = dict(positions)
            trace.context.update(mode=state.mode, scope={"active_journeys": list(positions)})
            self.variable_cache = await variables_refresh(runtime, journeys=positions)
            self._history()
        last = runtime.interaction.last_customer_message
        if agent.moderation and last is not None and last.text.strip():
            self.moderation = asyncio.ensure_future(moderation_check(runtime, last.text))
        else:
            trace.context["moderation"] = {"checked": False, "flagged": False}
        async with runtime.stage("retrieval"):
            start = time.perf_counter()
            runtime.index, built = await snapshot_index(snapshot, ports.embedder)
            if built:
                runtime.embed_waits.add(start, time.perf_counter())
            retrieval = await retrieve(runtime, journeys=tracker.active)
            runtime.terms = [term for term, _, _ in retrieval.terms]
        candidates = [runtime.index.matchables[k] for k in retrieval.candidates]
        single, reason = single_pass_choice(runtime, candidates=candidates, tracker=tracker)
        trace.strategy, trace.strategy_reason = ("single_pass" if single else "two_pass"), reason
        await ports.emitter.status("processing")
        strict = agent.composition_mode == "strict"
        if agent.preamble and not single and (not strict or runtime.config.preamble_in_strict_mode):
            self.preamble = PreambleTask(runtime, self.sent)

        prep = Preparation(tracker=tracker)
        draft = None
        if single:
            await ports.emitter.status("typing")
            async with runtime.stage("single_pass"):
                outcome = await single_pass_run(
                    runtime,
                    candidates=candidates,
                    scores=retrieval.scores,
                    retrieved_canned=[c for c, _ in retrieval.canned],
                    after_first_hop=self._after_first_hop,
                )
            prep.verdicts, prep.resolution, draft = outcome.verdicts, outcome.resolution, outcome.draft
            for journey_key, why in outcome.resolution.enter_journeys.items():
                tracker.enter(journey_key, why)
            if draft is None:
                trace.strategy_reason += f"; composed again: {outcome.fallback_reason}"
        else:
            async with runtime.stage("preparation"):
                prep = await prepare(
                    runtime,
                    candidates=candidates,
                    scores=retrieval.scores,
                    tracker=tracker,
                    after_first_hop=self._after_first_hop,
                )
            self.handoff = prep.handoff
            if prep.superseded:
                return await self.superseded()
        await self._after_first_hop()  # the moderation verdict is in the trace even when no hop ran
        plan = self._plan(prep.resolution, prep.verdicts, prep, retrieval)

        if self.preamble is not None:
            await self.preamble.close()
        if await ports.cancellation.is_cancelled():
            return await self.superseded()
        if draft is None:
            if not single:  # a single-pass turn already said it was typing
                await ports.emitter.status("typing")
            async with runtime.stage("composition"):
                draft = await (compose_strict(runtime, plan) if strict else compose_stream(runtime, plan))
        if await ports.cancellation.is_cancelled():
            return await self.superseded()
        if not draft.streamed:
            await ports.emitter.message_chunk(message_id=draft.message_id, text=draft.text)
        await ports.emitter.message(message_id=draft.message_id, text=draft.text, data=draft.data)
        self.sent.append(EmittedMessage(message_id=draft.message_id, text=draft.text, data=draft.data))
        self.replied = True
        runtime.trace.composition.update(message_id=draft.message_id, chars=len(draft.text))

        async with runtime.stage("analysis"):
            applied = await applied_analysis(runtime, plan, reply=draft.text, followed=draft.followed)
        history = runtime.history
        assert history is not None
        new_state = SessionState(
            mode="human" if self.handoff else state.mode,
            applied=applied_update(
                state.applied,
                applied=applied,
                offset=runtime.customer_offset,
                existing={k for k, g in runtime.index.matchables.items() if g.track},
            ),
            journeys=dict(tracker.ongoing),
            journey_paths={k: tuple(tracker.paths.get(k, [v]))[-50:] for k, v in tracker.ongoing.items()},
            variables=self.variable_cache,
            summary=history.summary,
            summary_until_offset=history.summary_until_offset,
            key_facts=history.key_facts,
        )
        return await self.finish("handed_off" if self.handoff else "replied", new_state)

    async def _after_first_hop(self) -> bool:
        """Settle the speculative moderation check: True when the input was censored (redo the hop)."""
        if self.moderation is None:
            return False
        task, self.moderation = self.moderation, None
        verdict = await task
        if verdict is not None and verdict.flagged:
            censor(self.runtime, verdict)
            self._history()
            return True
        return False

    def _history(self) -> None:
        runtime = self.runtime
        runtime.history = history_build(
            events=runtime.interaction.events, state=runtime.state, config=runtime.config, censored=runtime.censored
        )
        runtime.trace.context["history"] = {
            "verbatim": len(runtime.history.verbatim),
            "summarised": runtime.history.summarised,
            "summary": runtime.history.summary[:2000],
            "key_facts": list(runtime.history.key_facts),
            "tokens": runtime.history.tokens,
        }

    def _plan(
        self, resolution: Resolution, verdicts: dict[str, Verdict], prep: Preparation, retrieval: Retrieval
    ) -> ReplyPlan:
        runtime = self.runtime
        index, config, trace = runtime.index, runtime.config, runtime.trace
        assert index is not None and self.tracker is not None
        guidelines = []
        for key, origin in resolution.active.items():
            guideline = index.matchables[key]
            if guideline.is_observation:
                continue  # observations did their work: triggers, dependencies, disambiguation
            verdict = verdicts.get(key)
            guidelines.append(
                ActiveGuideline(
                    key=key,
                    condition=guideline.condition,
                    action=guideline.action,
                    rationale=verdict.rationale if verdict is not None else origin,
                    priority=guideline.priority,
                    criticality=guideline.criticality,
                    origin=origin,
                    track=guideline.track,
                    continuous=guideline.continuous,
                )
            )
        guidelines.extend(prep.transient)
        insights = []
        if resolution.clarification is not None:
            insights.append(clarification_insight(resolution.clarification))
        insights.extend(prep.insights)
        if runtime.moderation_note:
            insights.append(runtime.moderation_note)
        if prep.handoff:
            insights.append(
                f"The session is being handed over to a human operator: tell the customer. {config.human_handoff_note}"
            )
        steps = self.tracker.steps()
        plan = ReplyPlan(
            guidelines=guidelines,
            journey_steps=steps,
            tool_results=prep.tool_results(config.tool_result_max_chars),
            insights=insights,
            canned_fields=dict(prep.canned_fields),
            clarification=resolution.clarification,
            handoff=prep.handoff,
        )
        if runtime.agent.composition_mode in ("strict", "composited"):
            plan.canned_candidates = canned_candidates(
                runtime,
                guideline_keys=[g.key for g in guidelines],
                state_refs=[f"{s.journey}/{s.state}" for s in steps],
                retrieved=[c for c, _ in retrieval.canned],
            )
        trace.active = [g.key for g in guidelines]
        trace.clarification = (
            {"source": resolution.clarification.source, "options": [k for k, _ in resolution.clarification.options]}
            if resolution.clarification
            else None
        )
        trace.insights = list(dict.fromkeys(insights))
        return plan

    # ------------------------------------------------------------ endings

    async def finish(self, outcome: TurnOutcome, new_state: SessionState) -> TurnResult:
        runtime = self.runtime
        result = _result(runtime, outcome, self.sent, new_state, tracker=self.tracker)
        await runtime.ports.emitter.trace(trace=result.trace)
        await runtime.ports.emitter.status("ready")
        return result

    def _unchanged_state(self) -> SessionState:
        """A turn without a reply keeps the session state, except what already happened for real: refreshed
        variables and a handoff a tool performed."""
        state = self.runtime.state
        return SessionState(
            mode="human" if self.handoff else state.mode,
            applied=state.applied,
            journeys=state.journeys,
            journey_paths=state.journey_paths,
            variables=self.variable_cache,
            summary=state.summary,
            summary_until_offset=state.summary_until_offset,
            key_facts=state.key_facts,
        )

    async def superseded(self) -> TurnResult:
        self.runtime.trace.composition.setdefault("method", "superseded")
        result = _result(self.runtime, "superseded", self.sent, self._unchanged_state(), tracker=self.tracker)
        await self.runtime.ports.emitter.trace(trace=result.trace)
        return result

    async def fail(self, error: BaseException, *, kind: str) -> TurnResult:
        runtime = self.runtime
        runtime.trace.error(kind, error)
        emitter, config = runtime.ports.emitter, runtime.config
        outcome: TurnOutcome = "replied" if self.replied else "failed"
        try:
            if not self.replied:
                await emitter.status("error", detail={"reason": "llm_error" if kind == "llm" else "internal_error"})
                message_id = new_message_id()
                data = {"fallback": True, "error": kind}
                await emitter.message(message_id=message_id, text=config.error_reply, data=data)
                self.sent.append(EmittedMessage(message_id=message_id, text=config.error_reply, data=data))
                runtime.trace.composition.update(method="fallback", message_id=message_id)
            result = _result(runtime, outcome, self.sent, self._unchanged_state(), tracker=self.tracker)
            await emitter.trace(trace=result.trace)
            return result
        except Exception:  # the emitter itself failed: nothing more can reach the customer from here
            logger.exception("could not report a failed turn for session %s", runtime.interaction.session_id)
            return _result(runtime, outcome, self.sent, self._unchanged_state(), tracker=self.tracker)

    async def cleanup(self) -> None:
        pending = [
            f
            for f in (self.moderation, self.preamble.task if self.preamble else None)
            if f is not None and not f.done()
        ]
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _result(
    runtime: TurnRuntime,
    outcome: TurnOutcome,
    sent: list[EmittedMessage],
    state: SessionState,
    *,
    tracker: JourneyTracker | None = None,
) -> TurnResult:
    trace = runtime.trace
    trace.outcome = outcome
    trace.hops = runtime.hop
    if tracker is not None:
        trace.journeys_after = dict(tracker.ongoing) if outcome in ("replied", "handed_off") else dict(state.journeys)
    wall = runtime.elapsed_ms()
    every = WaitClock(
        intervals=[*runtime.llm_waits.intervals, *runtime.tool_waits.intervals, *runtime.embed_waits.intervals]
    )
    trace.timings = {
        "wall_ms": round(wall, 2),
        "llm_wait_ms": round(runtime.llm_waits.total_ms(), 2),
        "tool_wait_ms": round(runtime.tool_waits.total_ms(), 2),
        "embed_wait_ms": round(runtime.embed_waits.total_ms(), 2),
        "overhead_ms": round(max(0.0, wall - every.total_ms()), 2),
    }
    return TurnResult(
        outcome=outcome,
        messages=tuple(sent),
        state=state,
        trace=trace.to_dict(),
        llm_calls=runtime.llm_call_count,
        hops=runtime.hop,
    )
