"""Evaluation runs: create (cases x repeats on a version or the draft), dispatch attempts up to the run's concurrency
(inline in tests, a thread pool in the embedded default, Celery tasks with Redis), cancel, and finish with the
run's figures and coverage once every attempt is done."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent
from behavior.evaluations.cases import actor_user, case_definition
from behavior.evaluations.format import case_data
from behavior.evaluations.metrics import run_coverage, run_summary
from behavior.evaluations.models import (
    RESULT_FINISHED,
    EvalCase,
    EvalResult,
    EvalRun,
    ResultStatus,
    RunPurpose,
    RunStatus,
)
from behavior.evaluations.observe import document_inventory
from behavior.models import BehaviorVersion
from behavior.services import agent_export_document
from behavior.services.rows import invalid
from config.errors import ValidationFailed

logger = logging.getLogger(__name__)

MAX_REPEATS = 10
MAX_ATTEMPTS_PER_RUN = 2000
DEFAULT_MIN_PASS_RATE = 1.0

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def cases_selected(agent: Agent, *, keys: Sequence[str] = (), tags: Sequence[str] = ()) -> list[EvalCase]:
    """The agent's cases with one of `keys` or one of `tags` (all of them when both are empty)."""
    rows = list(agent.eval_cases.order_by("key"))
    if not keys and not tags:
        return rows
    unknown = sorted(set(keys) - {row.key for row in rows})
    if unknown:
        raise invalid("cases", f"no test case with the key {unknown[0]!r}")
    wanted_tags = set(tags)
    return [row for row in rows if row.key in set(keys) or wanted_tags & set(row.tags or [])]


def run_create(
    *,
    agent: Agent,
    version: BehaviorVersion | None,
    actor: Any,
    keys: Sequence[str] = (),
    tags: Sequence[str] = (),
    repeats: int = 1,
    concurrency: int | None = None,
    min_pass_rate: float | None = None,
    purpose: str = RunPurpose.MANUAL,
    baseline: EvalRun | None = None,
    start: bool = True,
) -> EvalRun:
    """A run of the selected cases x `repeats` on `version` (None = the draft); its attempts start after commit.
    ValidationFailed when nothing is selected or a number is out of range."""
    if version is not None and version.agent_id != agent.pk:
        raise invalid("version", f"version {version.number} belongs to another agent")
    if not 1 <= int(repeats) <= MAX_REPEATS:
        raise invalid("repeats", f"between 1 and {MAX_REPEATS}")
    limit = int(settings.EVAL_MAX_CONCURRENCY)
    chosen_concurrency = int(concurrency if concurrency is not None else settings.EVAL_DEFAULT_CONCURRENCY)
    if not 1 <= chosen_concurrency <= limit:
        raise invalid("concurrency", f"between 1 and {limit}")
    threshold = DEFAULT_MIN_PASS_RATE if min_pass_rate is None else float(min_pass_rate)
    if not 0.0 <= threshold <= 1.0:
        raise invalid("min_pass_rate", "between 0 and 1 (0.9 = 90%)")
    if purpose not in RunPurpose.values:
        raise invalid("purpose", f"one of {', '.join(RunPurpose.values)}")
    cases = cases_selected(agent, keys=keys, tags=tags)
    if not cases:
        what = "with those tags" if tags else "yet"
        raise ValidationFailed(
            f"There is no test case {what}: add one (or save a sandbox conversation as one) first.",
            details=[{"path": "cases", "message": "no test case selected"}],
        )
    if len(cases) * int(repeats) > MAX_ATTEMPTS_PER_RUN:
        raise invalid("repeats", f"a run makes at most {MAX_ATTEMPTS_PER_RUN} attempts (cases x repeats)")
    document = version.document if version is not None else agent_export_document(agent)
    with transaction.atomic():
        run = EvalRun.objects.create(
            agent=agent,
            version=version,
            # from the row: the caller's Agent object may be older than the draft
            draft_revision=Agent.objects.values_list("draft_revision", flat=True).get(pk=agent.pk)
            if version is None
            else None,
            purpose=purpose,
            selection={"keys": list(keys), "tags": list(tags)},
            repeats=int(repeats),
            concurrency=chosen_concurrency,
            min_pass_rate=threshold,
            baseline=baseline,
            progress_total=len(cases) * int(repeats),
            inventory=document_inventory(document),
            created_by=actor_user(actor),
        )
        EvalResult.objects.bulk_create(
            [
                EvalResult(
                    run=run,
                    case=case,
                    case_key=case.key,
                    definition=case_data(case_definition(case)),
                    repeat=repeat,
                )
                for case in cases
                for repeat in range(int(repeats))
            ]
        )
        if start:
            transaction.on_commit(lambda: run_dispatch(run.pk))
    return run


def run_dispatch(run_id: int) -> list[int]:
    """Queue pending attempts until `concurrency` are queued or running; returns the ids queued now."""
    with transaction.atomic():
        run = EvalRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.finished or run.cancel_requested:
            return []
        if run.status == RunStatus.QUEUED:
            EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
        busy = run.results.filter(status__in=(ResultStatus.QUEUED, ResultStatus.RUNNING)).count()
        slots = max(0, run.concurrency - busy)
        ids = list(
            run.results.filter(status=ResultStatus.PENDING)
            .order_by("repeat", "case_key")
            .values_list("id", flat=True)[:slots]
        )
        if ids:
            EvalResult.objects.filter(pk__in=ids, status=ResultStatus.PENDING).update(status=ResultStatus.QUEUED)
            transaction.on_commit(lambda: _enqueue_all(ids))
    if not ids:
        run_finish_if_done(run_id)
    return ids


def _enqueue_all(ids: list[int]) -> None:
    for result_id in ids:
        result_enqueue(result_id)


def result_enqueue(result_id: int) -> None:
    """Start one attempt: inline (tests: TURNS_RUN_INLINE), in this process's evaluation threads (the embedded
    default) or as a Celery task (with Redis)."""
    if getattr(settings, "TURNS_RUN_INLINE", False):
        _execute(result_id)
    elif settings.TURNS_IN_PROCESS:
        _eval_executor().submit(_execute_in_thread, result_id)
    else:
        from behavior.tasks import eval_result_execute_task

        eval_result_execute_task.delay(result_id)


def _execute(result_id: int) -> None:
    from behavior.evaluations.execute import result_execute

    result_execute(result_id)


def _eval_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=int(settings.EVAL_THREADS), thread_name_prefix="eval")
        return _executor


def _execute_in_thread(result_id: int) -> None:
    close_old_connections()
    try:
        _execute(result_id)
    except Exception:
        logger.exception("Evaluation attempt %s crashed in its thread", result_id)
    finally:
        close_old_connections()


def run_cancel(run: EvalRun, *, actor: Any) -> EvalRun:
    """Stop a run: attempts not started are cancelled now, running ones stop before their next turn."""
    with transaction.atomic():
        locked = EvalRun.objects.select_for_update().get(pk=run.pk)
        if locked.finished:
            raise ValidationFailed(f"This run has already finished ({locked.get_status_display().lower()}).")
        EvalRun.objects.filter(pk=run.pk).update(cancel_requested=True)
        locked.results.filter(status__in=(ResultStatus.PENDING, ResultStatus.QUEUED)).update(
            status=ResultStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled before it started."
        )
    run_finish_if_done(run.pk)
    run.refresh_from_db()
    return run


def run_finish_if_done(run_id: int) -> bool:
    """When every attempt has finished: store the figures and coverage and the final status. True if it finished."""
    with transaction.atomic():
        run = EvalRun.objects.select_for_update().select_related("agent").filter(pk=run_id).first()
        if run is None or run.finished:
            return False
        results = list(run.results.all())
        done = sum(1 for result in results if result.status in RESULT_FINISHED)
        if done != len(results):
            EvalRun.objects.filter(pk=run.pk).update(progress_done=done)
            return False
        attempts = [result_attempt(result) for result in results]
        summary = run_summary(
            attempts,
            k=run.repeats,
            prices=settings.LLM_PRICES,
            min_pass_rate=run.min_pass_rate if run.min_pass_rate is not None else DEFAULT_MIN_PASS_RATE,
        )
        if run.version_id is None and run.agent.draft_revision != run.draft_revision:
            summary["draft_changed"] = True  # the draft was edited while the run went: results mix both
        if run.cancel_requested:
            status = RunStatus.CANCELLED
        elif summary["attempts"] and summary["errors"] == summary["attempts"]:
            status = RunStatus.ERROR
        else:
            status = RunStatus.PASSED if summary["meets_threshold"] else RunStatus.FAILED
        EvalRun.objects.filter(pk=run.pk).update(
            status=status,
            progress_done=done,
            summary=summary,
            coverage=run_coverage(run.inventory or {}, attempts),
            finished_at=timezone.now(),
            error=_errors_text(results) if status == RunStatus.ERROR else "",
        )
    return True


def _errors_text(results: Sequence[EvalResult]) -> str:
    errors = sorted({result.error for result in results if result.error})
    return "; ".join(errors)[:2000]


def result_attempt(result: EvalResult) -> dict[str, Any]:
    """The plain data metrics.py reads."""
    return {
        "case_key": result.case_key,
        "repeat": result.repeat,
        "status": result.status,
        "turns": result.turns or [],
        "assertions": result.assertions or [],
        "metrics": result.metrics or {},
    }


def runs_recover_stale(*, older_than_seconds: int | None = None) -> int:
    """Attempts whose worker died (running past the stale limit) become errors, so their run can finish."""
    seconds = int(older_than_seconds if older_than_seconds is not None else settings.EVAL_ATTEMPT_TIME_LIMIT + 60)
    before = timezone.now() - timedelta(seconds=seconds)
    # The command line queues all its attempts up front and runs them itself: only its running ones can go stale.
    stale = EvalResult.objects.filter(
        Q(status=ResultStatus.RUNNING, started_at__lt=before)
        | (Q(status=ResultStatus.QUEUED, run__created_at__lt=before) & ~Q(run__purpose=RunPurpose.CLI))
    )
    run_ids = set(stale.values_list("run_id", flat=True))
    count = stale.update(
        status=ResultStatus.ERROR, finished_at=timezone.now(), error="The attempt's worker stopped before it finished."
    )
    for run_id in run_ids:
        run_dispatch(run_id)
    return count


def runs_recover_on_startup() -> None:
    """Embedded mode (attempts in this process's threads): attempts a restart interrupted become errors and the
    runs they belong to dispatch again (their queued attempts are queued anew). In a thread; never raises."""
    if not settings.TURNS_IN_PROCESS or getattr(settings, "TURNS_RUN_INLINE", False):
        return
    if "pytest" in sys.modules:
        return  # the tests import the ASGI application; a test calls _recover itself
    _eval_executor().submit(_recover)


def _recover() -> None:
    close_old_connections()
    try:
        unfinished = EvalRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
        run_ids = list(unfinished.values_list("id", flat=True))
        if settings.EMBEDDED:  # one process owns every in-process attempt: whatever it was running is dead
            EvalResult.objects.filter(run_id__in=run_ids, status=ResultStatus.RUNNING).update(
                status=ResultStatus.ERROR,
                finished_at=timezone.now(),
                error="The server restarted while this attempt ran.",
            )
        EvalResult.objects.filter(run_id__in=run_ids, status=ResultStatus.QUEUED).update(status=ResultStatus.PENDING)
        for run_id in run_ids:
            run_dispatch(run_id)
    except Exception:
        logger.exception("Recovering interrupted evaluation runs failed")
    finally:
        close_old_connections()
