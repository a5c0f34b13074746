"""Celery tasks of the behavior model: the LLM check for contradictory guidelines (the work is in
behavior.services.lint)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from behavior.services.lint import lint_run_execute

# Transient: the database was unreachable; the claim makes a second run of a claimed run do nothing.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="behavior.lint_contradictions",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=5,
    ignore_result=True,
)
def lint_contradictions_task(run_id: int) -> str:
    """Run lint run `run_id` (claimed atomically; a redelivered task exits quietly)."""
    return lint_run_execute(int(run_id))
