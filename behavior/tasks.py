"""Celery tasks of the behavior model: the LLM check for contradictory guidelines (the work is in
behavior.services.lint)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from behavior.evaluations.runs import runs_recover_stale
from behavior.services.lint import lint_run_execute
from config.tasks import CLAIMED_TASK_OPTIONS


@shared_task(name="behavior.lint_contradictions", **CLAIMED_TASK_OPTIONS)
def lint_contradictions_task(run_id: int) -> str:
    """Run lint run `run_id` (claimed atomically; a redelivered task exits quietly)."""
    return lint_run_execute(int(run_id))


@shared_task(
    name="behavior.eval_result_execute",
    **{**CLAIMED_TASK_OPTIONS, "time_limit": settings.EVAL_ATTEMPT_TIME_LIMIT},
)
def eval_result_execute_task(result_id: int) -> str:
    """Run one evaluation attempt (claimed atomically; a redelivered task exits quietly)."""
    from behavior.evaluations.execute import result_execute

    return result_execute(int(result_id))


@shared_task(name="behavior.evals_recover_stale", ignore_result=True)
def evals_recover_stale_task() -> int:
    """Attempts whose worker died become errors, so their runs finish (scheduled by celery beat)."""
    return runs_recover_stale()
