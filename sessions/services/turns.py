"""Turn execution: enqueue (Celery or an in-process thread pool), claim with a conditional update, run the
engine through the bridge, store the outcome; and the sweep that fails turns whose worker died."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import socket
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from behavior.engine.ports import ToolRunner
from behavior.engine.turn import run_turn
from behavior.engine.types import EngineConfig, TurnResult
from sessions import engine_bridge
from sessions.broadcast import event_broadcast_on_commit
from sessions.emitter import (
    SessionEmitter,
    TurnCancellation,
    TurnDatabase,
    trace_error_text,
    trace_store,
    turn_superseded,
)
from sessions.models import HUMAN_MODES, EventKind, EventSource, HandoffReason, Session, Turn, TurnStatus
from sessions.services.core import event_append
from sessions.services.handoff import handoff_request

logger = logging.getLogger(__name__)
T = TypeVar("T")
ToolsWrap = Callable[[ToolRunner], ToolRunner]

# What the customer reads when a turn fails; the error status event says what went wrong.
FALLBACK_REPLY = EngineConfig().error_reply
HANDOFF_TOOL_NAME = "handoff"  # the built-in tool a guideline is given to hand over (agents/tools/builtin.py)
STALE_TURN_MESSAGE = "The agent stopped before replying (its worker was interrupted). Please send your message again."
ERROR_TEXT_MAX_CHARS = 2000

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_process_started = timezone.now()
_thread_state = threading.local()


# ---------------------------------------------------------------- enqueue


def turn_enqueue(turn_id: int) -> None:
    """Start a pending turn: inline (tests: TURNS_RUN_INLINE), in the process-wide thread pool
    (TURNS_IN_PROCESS, the embedded default) or as a Celery task. Call it after commit."""
    if getattr(settings, "TURNS_RUN_INLINE", False):
        turn_execute(turn_id)
    elif settings.TURNS_IN_PROCESS:
        _turn_executor().submit(_turn_execute_in_thread, turn_id)
    else:
        from sessions.tasks import turn_execute_task

        turn_execute_task.delay(turn_id)


def _turn_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=int(settings.TURN_THREADS), thread_name_prefix="turn")
        return _executor


def _turn_execute_in_thread(turn_id: int) -> None:
    close_old_connections()
    try:
        turn_execute(turn_id)
    except Exception:
        logger.exception("Turn %s crashed in its thread", turn_id)
    finally:
        close_old_connections()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:200]


# ---------------------------------------------------------------- claim


def turn_claim(turn_id: int, *, worker: str) -> Turn | None:
    """Claim a turn: pending → running, or a stale running turn (its worker died) again. Returns None when
    someone else holds it, it is finished, or it has used all its attempts (then it is failed)."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=int(settings.TURN_STALE_SECONDS))
    max_attempts = int(settings.TURN_MAX_ATTEMPTS)
    claimable = Q(status=TurnStatus.PENDING) | Q(status=TurnStatus.RUNNING, claimed_at__lt=stale_before)
    claimed = Turn.objects.filter(claimable, pk=turn_id, attempts__lt=max_attempts).update(
        status=TurnStatus.RUNNING,
        attempts=F("attempts") + 1,
        claimed_by=worker[:200],
        claimed_at=now,
        started_at=Coalesce(F("started_at"), now),
    )
    if claimed:
        return Turn.objects.select_related("trigger_event").get(pk=turn_id)
    exhausted = Turn.objects.filter(claimable, pk=turn_id, attempts__gte=max_attempts).first()
    if exhausted is not None:
        turn_fail(
            exhausted,
            error=f"The turn was interrupted {exhausted.attempts} times; giving up.",
            message=STALE_TURN_MESSAGE,
            expected_status=exhausted.status,
        )
    return None


# ---------------------------------------------------------------- execute


def turn_execute(turn_id: int, *, worker: str | None = None, tools_wrap: ToolsWrap | None = None) -> str:
    """Claim and run one turn; returns its final status, or "skipped" when it was not ours to run.

    A redelivered task finds the turn claimed (or finished) and does nothing. Unexpected errors fail the
    turn with an error event and a polite message; the session stays usable. Every query of the turn runs
    on its one database thread (one connection per turn), the engine on this thread's event loop.
    `tools_wrap` wraps the agent's tool runner (an evaluation's tool mocks)."""
    return thread_loop_run(_turn_execute_async(turn_id, worker or worker_name(), tools_wrap))


def thread_loop_run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on this thread's lasting event loop, in a fresh context (so it does not
    inherit its caller's, e.g. asgiref's "inside sync_to_async" marker)."""
    return contextvars.Context().run(_thread_event_loop().run_until_complete, coroutine)


def _thread_event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, kept across turns: the HTTP clients of the model and the channel layer's
    Redis pool belong to a loop, so a loop per turn would rebuild them (TLS context, connections) every turn."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_state, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _thread_state.loop = loop
    return loop


async def _turn_execute_async(turn_id: int, worker: str, tools_wrap: ToolsWrap | None = None) -> str:
    database = TurnDatabase(asyncio.get_running_loop())
    try:
        turn = await database.run(turn_claim, turn_id, worker=worker)
        if turn is None:
            return "skipped"
        try:
            return await _turn_engine_call(turn, database, tools_wrap)
        except Exception as error:
            logger.exception("Turn %s failed", turn.pk)
            return await database.run(turn_fail, turn, error=_error_text(error))
    finally:
        await database.close()


def _turn_prepare(turn: Turn) -> tuple[Session, engine_bridge.TurnInputs] | None:
    """The session and the engine's inputs, or None when the turn was superseded before it started."""
    session = Session.objects.select_related("agent", "customer", "version").get(pk=turn.session_id)
    if turn_superseded(turn):
        Turn.objects.filter(pk=turn.pk, status=TurnStatus.RUNNING).update(
            status=TurnStatus.SUPERSEDED, finished_at=timezone.now()
        )
        return None
    return session, engine_bridge.turn_inputs(session)


async def _turn_engine_call(turn: Turn, database: TurnDatabase, tools_wrap: ToolsWrap | None = None) -> str:
    prepared = await database.run(_turn_prepare, turn)
    if prepared is None:
        return TurnStatus.SUPERSEDED
    session, inputs = prepared
    cancellation = TurnCancellation(turn=turn, database=database)
    emitter = SessionEmitter(turn=turn, session=session, database=database, cancellation=cancellation)
    tools = engine_bridge.tool_runner_for(inputs.document)
    if tools_wrap is not None:
        tools = tools_wrap(tools)
    ports = engine_bridge.turn_ports(inputs, emitter=emitter, cancellation=cancellation, tools=tools)
    try:
        result = await run_turn(
            snapshot=inputs.snapshot, interaction=inputs.interaction, state=inputs.state, ports=ports
        )
    except Exception as error:
        logger.exception("The engine raised on turn %s", turn.pk)
        await emitter.chunks_settle()
        await emitter.held_flush(error=_error_text(error))
        return await database.run(turn_fail, turn, error=_error_text(error), emitter=emitter)
    await emitter.chunks_settle()
    await emitter.held_flush(error=_result_error(result))
    return await database.run(_turn_complete, turn, result, emitter)


def _turn_complete(turn: Turn, result: TurnResult, emitter: SessionEmitter) -> str:
    """Store the engine's outcome: state, trace, final status; or fail / supersede the turn."""
    if not emitter.trace_stored and result.trace:
        trace_store(turn, result.trace)
    if result.outcome == "failed":
        return turn_fail(turn, error=_result_error(result), emitter=emitter)
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=turn.session_id)
        if result.outcome == "superseded" or turn_superseded(turn):
            Turn.objects.filter(pk=turn.pk, status=TurnStatus.RUNNING).update(
                status=TurnStatus.SUPERSEDED, finished_at=timezone.now()
            )
            return TurnStatus.SUPERSEDED
        state = result.state.to_dict()
        changes: dict[str, Any] = {"state": state, "updated_at": timezone.now()}
        handed_off = (
            result.outcome == "handed_off" or result.state.mode == "human"
        ) and session.mode not in HUMAN_MODES
        if not handed_off and session.mode in HUMAN_MODES:
            state["mode"] = "human"  # a human took over while the turn ran: the column is the truth
        Session.objects.filter(pk=session.pk).update(**changes)
        Turn.objects.filter(pk=turn.pk).update(status=TurnStatus.DONE, finished_at=timezone.now(), error="")
        if handed_off:
            reason, detail = handoff_cause(result.trace)
            handoff_request(session, reason=reason, detail=detail, turn=turn)
        _append_status(session, turn, {"status": "ready"})
    return TurnStatus.DONE


def handoff_cause(trace: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Why a turn handed the session over, from its trace: the tool whose result asked for a human, the
    guidelines it was called for, its reason and the matching rationale of the first of them. The built-in
    `handoff` tool given to a guideline counts as that guideline's request; any other tool's as a tool's."""
    trace = trace if isinstance(trace, Mapping) else {}
    cause = trace.get("handoff")
    if not isinstance(cause, Mapping):  # a trace without the handoff entry: the last tool call that succeeded
        calls = (trace.get("tools") or {}).get("calls") or []
        succeeded = [call for call in calls if isinstance(call, Mapping) and call.get("status") == "ok"]
        if not succeeded:
            return HandoffReason.TOOL, {"message": "The agent handed the conversation over."}
        cause = {"tool": succeeded[-1].get("tool"), "source": succeeded[-1].get("source")}
    tool = str(cause.get("tool") or "")
    sources = [part.strip() for part in str(cause.get("source") or "").split(",") if part.strip()]
    guidelines = [source for source in sources if ":" not in source]  # journeys and variables have a prefix
    detail: dict[str, Any] = {"tool": tool}
    if guidelines:
        detail["guidelines"] = guidelines
    if isinstance(cause.get("reason"), str) and cause["reason"]:
        detail["reason"] = cause["reason"]
    rationale = _verdict_rationale(trace, guidelines[0]) if guidelines else ""
    if rationale:
        detail["message"] = rationale
    kind = HandoffReason.GUIDELINE if tool == HANDOFF_TOOL_NAME and guidelines else HandoffReason.TOOL
    return kind, detail


def _verdict_rationale(trace: Mapping[str, Any], key: str) -> str:
    verdicts = (trace.get("matching") or {}).get("verdicts") or []
    for verdict in verdicts:
        if isinstance(verdict, Mapping) and verdict.get("key") == key and verdict.get("applies"):
            return str(verdict.get("rationale") or "")
    return ""


def turn_fail(
    turn: Turn,
    *,
    error: str,
    message: str | None = None,
    emitter: SessionEmitter | None = None,
    expected_status: str = TurnStatus.RUNNING,
) -> str:
    """Fail a turn: an error status event saying what went wrong, the polite fallback reply (unless the
    engine already replied), then "ready", so no client is left waiting. A superseded turn is only marked.
    `expected_status` guards the update: a turn someone else finished meanwhile is left alone."""
    error = (error or "The turn failed.")[:ERROR_TEXT_MAX_CHARS]
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=turn.session_id)
        if session.mode not in HUMAN_MODES and _has_newer_customer_message(turn):
            Turn.objects.filter(pk=turn.pk, status=expected_status).update(
                status=TurnStatus.SUPERSEDED, finished_at=timezone.now()
            )
            return TurnStatus.SUPERSEDED
        updated = Turn.objects.filter(pk=turn.pk, status=expected_status).update(
            status=TurnStatus.FAILED, finished_at=timezone.now(), error=error
        )
        if not updated:
            return Turn.objects.values_list("status", flat=True).get(pk=turn.pk)
        already_said_error = emitter is not None and bool(emitter.error_statuses)
        if not already_said_error:
            _append_status(session, turn, {"status": "error", "message": error})
        already_replied = emitter is not None and bool(emitter.messages)
        if not already_replied and session.mode not in HUMAN_MODES:
            reply = message or FALLBACK_REPLY
            event = event_append(
                session,
                kind=EventKind.MESSAGE,
                source=EventSource.AGENT,
                data={"text": reply, "fallback": True},
                turn=turn,
            )
            event.session = session
            event_broadcast_on_commit(event)
        _append_status(session, turn, {"status": "ready"})
    return TurnStatus.FAILED


def _append_status(session: Session, turn: Turn, data: dict[str, Any]) -> None:
    event = event_append(session, kind=EventKind.STATUS, source=EventSource.AGENT, data=data, turn=turn)
    event.session = session
    event_broadcast_on_commit(event)


def _has_newer_customer_message(turn: Turn) -> bool:
    from sessions.models import Event

    trigger_offset = Event.objects.values_list("offset", flat=True).get(pk=turn.trigger_event_id)
    return Event.objects.filter(
        session_id=turn.session_id, kind=EventKind.MESSAGE, source=EventSource.CUSTOMER, offset__gt=trigger_offset
    ).exists()


def _error_text(error: BaseException) -> str:
    text = str(error).strip()
    return (text or type(error).__name__)[:ERROR_TEXT_MAX_CHARS]


def _result_error(result: TurnResult) -> str:
    return trace_error_text(result.trace)


# ---------------------------------------------------------------- sweep


def turns_sweep(*, stale_seconds: int | None = None) -> int:
    """Fail turns nobody will finish: running turns claimed longer than `stale_seconds` ago (default
    TURN_STALE_SECONDS) and pending turns queued that long ago. Returns how many were failed."""
    seconds = int(settings.TURN_STALE_SECONDS if stale_seconds is None else stale_seconds)
    before = timezone.now() - timedelta(seconds=seconds)
    stale = Turn.objects.filter(
        Q(status=TurnStatus.RUNNING, claimed_at__lt=before) | Q(status=TurnStatus.PENDING, created_at__lt=before)
    ).order_by("id")
    failed = 0
    for turn in stale.iterator():
        status = turn_fail(turn, error=STALE_TURN_MESSAGE, message=STALE_TURN_MESSAGE, expected_status=turn.status)
        failed += status == TurnStatus.FAILED
    return failed


def turns_recover_on_startup() -> None:
    """Embedded mode (turns in this process): turns left running by a previous process can never finish,
    so fail them; pending turns queued before the restart are run. In a background thread; never raises."""
    if not settings.TURNS_IN_PROCESS or getattr(settings, "TURNS_RUN_INLINE", False):
        return
    _turn_executor().submit(_recover)


def _recover() -> None:
    close_old_connections()
    try:
        # A single embedded process owns every in-process turn, so a claim older than this process is dead;
        # with several web processes (DATABASE_URL) only stale claims are.
        if settings.EMBEDDED:
            before = _process_started
        else:
            before = timezone.now() - timedelta(seconds=int(settings.TURN_STALE_SECONDS))
        running = Turn.objects.filter(status=TurnStatus.RUNNING, claimed_at__lt=before)
        for turn in running.order_by("id"):
            turn_fail(turn, error=STALE_TURN_MESSAGE, message=STALE_TURN_MESSAGE, expected_status=TurnStatus.RUNNING)
        turns_sweep()
        for turn_id in Turn.objects.filter(status=TurnStatus.PENDING).order_by("id").values_list("id", flat=True):
            _turn_executor().submit(_turn_execute_in_thread, turn_id)
    except Exception:
        logger.exception("Recovering interrupted turns failed")
    finally:
        close_old_connections()
