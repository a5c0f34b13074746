"""One attempt of a run: a fresh test customer and an evaluation session on the run's version, the customer's
messages (scripted, or written by the simulated customer) sent through the ordinary turn path with the case's tool
mocks, each turn observed from its trace, then every assertion checked and explained. Thin task wrappers call
`result_execute`; it claims its row, so a redelivered task does nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from behavior.engine.ports import LLM, ToolRunner
from behavior.evaluations.assertions import Check, Context, assertion_check, assertion_label
from behavior.evaluations.format import CaseDefinition, case_parse
from behavior.evaluations.mocks import MockingToolRunner
from behavior.evaluations.models import EvalResult, EvalRun, ResultStatus
from behavior.evaluations.observe import turn_observation
from behavior.evaluations.runs import run_dispatch
from behavior.evaluations.simulation import criterion_judge, simulated_customer_turn
from sessions import engine_bridge
from sessions.models import Event, EventKind, Session, SessionSource, Trace, Turn
from sessions.services.core import session_create
from sessions.services.customers import customer_create
from sessions.services.messages import customer_message_post
from sessions.services.turns import thread_loop_run, turn_execute, worker_name

logger = logging.getLogger(__name__)
ERROR_MAX_CHARS = 2000


class AttemptCancelled(Exception):
    """The run was cancelled between two turns."""


def result_claim(result_id: int) -> EvalResult | None:
    """pending/queued -> running; None when someone else has it or it has finished."""
    claimed = EvalResult.objects.filter(pk=result_id, status__in=(ResultStatus.PENDING, ResultStatus.QUEUED)).update(
        status=ResultStatus.RUNNING, started_at=timezone.now(), claimed_by=worker_name()
    )
    if not claimed:
        return None
    return EvalResult.objects.select_related("run", "run__agent", "run__version").get(pk=result_id)


def result_execute(result_id: int) -> str:
    """Run one attempt to its end; returns its status ("skipped" when it was not ours)."""
    result = result_claim(result_id)
    if result is None:
        return "skipped"
    run = result.run
    attempt = Attempt(run=run, result=result)
    try:
        if EvalRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            raise AttemptCancelled
        attempt.play()
        status = ResultStatus.PASSED if attempt.passed else ResultStatus.FAILED
        error = ""
    except AttemptCancelled:
        status, error = ResultStatus.CANCELLED, "The run was cancelled."
    except Exception as failure:  # the attempt is an error; the run goes on
        logger.exception("Evaluation attempt %s failed", result_id)
        status, error = ResultStatus.ERROR, (str(failure).strip() or type(failure).__name__)[:ERROR_MAX_CHARS]
    EvalResult.objects.filter(pk=result.pk).update(
        status=status,
        error=error,
        session=attempt.session,
        turns=attempt.turns,
        assertions=attempt.checks,
        metrics=attempt.metrics(),
        finished_at=timezone.now(),
    )
    run_dispatch(run.pk)
    return status


class Attempt:
    def __init__(self, *, run: EvalRun, result: EvalResult) -> None:
        self.run = run
        self.result = result
        self.case: CaseDefinition = case_parse(result.definition)
        self.session: Any = None
        self.turns: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.simulation: dict[str, Any] | None = None
        self.evaluator_calls = 0
        self.evaluator_tokens: dict[str, list[int]] = {}
        self.mocked: list[tuple[str, dict[str, Any]]] = []  # the calls a mock answered, over all turns
        self.started = time.perf_counter()
        self._llm: LLM | None = None
        self._model = ""

    @property
    def passed(self) -> bool:
        return (bool(self.checks) and all(item["passed"] for item in self.checks)) or (
            not self.checks and bool(self.turns) and all(turn["status"] == "done" for turn in self.turns)
        )

    # ------------------------------------------------------------ the conversation

    def play(self) -> None:
        agent = self.run.agent
        customer = customer_create(
            name=self.case.customer.name,
            tags=list(self.case.customer.tags),
            agent=agent,
            variable_values=dict(self.case.customer.variables),
        )
        self.session = session_create(
            agent=agent,
            customer=customer,
            source=SessionSource.EVALUATION,
            version=self.run.version,
            created_by=self.run.created_by,
            title=f"Run {self.run.pk} · {self.case.key} #{self.result.repeat + 1}",
        )
        overrides = self.case.agent.as_dict()
        if overrides:
            Session.objects.filter(pk=self.session.pk).update(overrides=overrides)
            self.session.overrides = overrides
        EvalResult.objects.filter(pk=self.result.pk).update(session=self.session)
        if self.case.kind == "scripted":
            for index, scripted in enumerate(self.case.turns):
                self._cancel_check()
                observation = self.turn(index, scripted.message)
                for assertion in scripted.assertions:
                    self._check(assertion, Context(**self._context([observation], conversation=False)), index)
        else:
            self._simulate()
        self._cancel_check()
        for assertion in self.case.assertions:
            self._check(assertion, Context(**self._context(self.turns, conversation=True)), None)

    def _cancel_check(self) -> None:
        if EvalRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise AttemptCancelled

    def _simulate(self) -> None:
        simulation = self.case.simulation
        assert simulation is not None  # a simulated case always has one (format.py)
        outcome: dict[str, Any] = {"goal_reached": False, "abandoned": False, "rationale": "", "milestones": []}
        for index in range(simulation.max_turns):
            self._cancel_check()
            if index == 0 and simulation.opening:
                message = simulation.opening
            else:
                move = self._evaluator(
                    simulated_customer_turn(
                        self._evaluator_llm(),
                        model=self._model,
                        simulation=simulation.model_dump(),
                        turns=self.turns,
                        customer_name=self.case.customer.name,
                    )
                )
                outcome.update(
                    rationale=move.rationale,
                    milestones=sorted({n for n in move.milestones_reached if 1 <= n <= len(simulation.milestones)}),
                )
                if move.goal_reached or move.abandoned or not move.message:
                    outcome.update(goal_reached=move.goal_reached, abandoned=move.abandoned or not move.goal_reached)
                    break
                message = move.message
            self.turn(index, message)
        else:  # out of turns: one last look at whether the goal was reached with the final reply
            move = self._evaluator(
                simulated_customer_turn(
                    self._evaluator_llm(),
                    model=self._model,
                    simulation=simulation.model_dump(),
                    turns=self.turns,
                    customer_name=self.case.customer.name,
                )
            )
            outcome.update(
                goal_reached=move.goal_reached,
                abandoned=move.abandoned,
                rationale=move.rationale,
                milestones=sorted({n for n in move.milestones_reached if 1 <= n <= len(simulation.milestones)}),
            )
        outcome["turns"] = len(self.turns)
        outcome["turns_to_goal"] = len(self.turns) if outcome["goal_reached"] else None
        outcome["milestones_total"] = len(simulation.milestones)
        self.simulation = outcome

    def turn(self, index: int, message: str) -> dict[str, Any]:
        """Send one customer message and run the agent's turn here, through the ordinary turn path."""
        event = customer_message_post(self.session, text=message, enqueue=False)
        turn = Turn.objects.filter(trigger_event=event).first()
        status = "no_turn"  # a human owns the conversation (after a handoff): the agent stays silent
        turn_error = ""
        if turn is not None:
            turn_execute(turn.pk, worker=f"eval:{worker_name()}", tools_wrap=self._tools_wrap)
            status, turn_error = Turn.objects.values_list("status", "error").get(pk=turn.pk)
        trace = Trace.objects.filter(turn_id=turn.pk).values_list("data", flat=True).first() if turn else None
        events = [
            {"kind": row.kind, "source": row.source, "data": row.data, "offset": row.offset}
            for row in Event.objects.filter(session_id=self.session.pk, offset__gt=event.offset).exclude(
                kind=EventKind.STATUS
            )
        ]
        observation = turn_observation(
            index=index,
            customer_text=message,
            customer_offset=event.offset,
            turn_id=turn.pk if turn else None,
            status=status,
            trace=trace,
            events=events,
        )
        if turn_error:
            observation["turn_error"] = turn_error[:500]
        if self.mocked:
            mocked = {(tool, repr(sorted(arguments.items()))) for tool, arguments in self.mocked}
            for call in observation["tools"]:
                key = (call["tool"], repr(sorted((call.get("arguments") or {}).items())))
                call["mocked"] = key in mocked
        self.turns.append(observation)
        return observation

    def _tools_wrap(self, inner: ToolRunner) -> ToolRunner:
        if not self.case.mocks:
            return inner
        return MockingToolRunner(inner, self.case.mocks, record=self.mocked)

    # ------------------------------------------------------------ assertions

    def _context(self, turns: list[dict[str, Any]], *, conversation: bool) -> dict[str, Any]:
        return {
            "turns": turns,
            "conversation": conversation,
            "inventory": self.run.inventory or {},
            "judgements": {},
            "simulation": self.simulation,
        }

    def _check(self, assertion: Any, context: Context, scope: int | None) -> None:
        if assertion.type == "criterion":
            upto = self.turns if scope is None else self.turns[: scope + 1]
            context = Context(**{**context.__dict__, "judgements": {assertion.criterion: self._judge(assertion, upto)}})
        check: Check = assertion_check(assertion, context)
        self.checks.append(
            {
                "type": assertion.type,
                "label": assertion_label(assertion),
                "note": getattr(assertion, "note", ""),
                "scope": "conversation" if scope is None else scope,
                "passed": check.passed,
                "cause": check.cause,
                "turn": check.turn if check.turn is not None else scope,
                "rationale": context.judgements.get(getattr(assertion, "criterion", ""), {}).get("rationale")
                if assertion.type == "criterion"
                else None,
            }
        )

    def _judge(self, assertion: Any, turns: list[dict[str, Any]]) -> Mapping[str, Any]:
        try:
            verdict = self._evaluator(
                criterion_judge(self._evaluator_llm(), model=self._model, criterion=assertion.criterion, turns=turns)
            )
        except Exception as error:  # a judge that cannot answer fails the assertion, with the reason
            logger.warning("The judge failed on attempt %s: %s", self.result.pk, error)
            return {"error": (str(error) or type(error).__name__)[:300]}
        return {"passed": verdict.passed, "rationale": verdict.rationale[:2000]}

    # ------------------------------------------------------------ the evaluator model

    def _evaluator_llm(self) -> LLM:
        if self._llm is None:
            snapshot, _document = engine_bridge.session_snapshot(self.session)
            self._model = str(settings.EVAL_MODEL or snapshot.agent.model)
            self._llm = engine_bridge.llm_port_for(snapshot)
        return self._llm

    def _evaluator(self, coroutine: Any) -> Any:
        """Run a simulator or judge call on this thread's loop; count its call and tokens."""
        self.evaluator_calls += 1
        value, record = thread_loop_run(coroutine)
        entry = self.evaluator_tokens.setdefault(str(record.model or self._model), [0, 0])
        entry[0] += int(record.prompt_tokens or 0)
        entry[1] += int(record.completion_tokens or 0)
        return value

    def metrics(self) -> dict[str, Any]:
        turns = self.turns
        return {
            "simulated": self.case.kind == "simulated",
            **({"goal_reached": False} if self.case.kind == "simulated" and self.simulation is None else {}),
            **(self.simulation or {}),
            "turns": len(turns),
            "llm_calls": sum(int(turn.get("llm_calls") or 0) for turn in turns),
            "tokens": sum(int(turn.get("tokens") or 0) for turn in turns),
            "wall_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "engine_ms": round(sum(float(turn.get("wall_ms") or 0.0) for turn in turns), 1),
            "evaluator_calls": self.evaluator_calls,
            "evaluator_tokens": self.evaluator_tokens,
        }
