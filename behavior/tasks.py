"""Celery tasks of the behavior model: the LLM check for contradictory guidelines (the work is in
behavior.services.lint)."""

from __future__ import annotations

from celery import shared_task

from behavior.services.lint import lint_run_execute
from config.tasks import CLAIMED_TASK_OPTIONS


@shared_task(name="behavior.lint_contradictions", **CLAIMED_TASK_OPTIONS)
def lint_contradictions_task(run_id: int) -> str:
    """Run lint run `run_id` (claimed atomically; a redelivered task exits quietly)."""
    return lint_run_execute(int(run_id))
