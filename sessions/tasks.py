"""Celery tasks of conversations: one thin, idempotent task per turn (the work is in services.turns)."""

from __future__ import annotations

import os

from celery import shared_task
from django.db import InterfaceError, OperationalError

from sessions.services.turns import turn_execute, turns_sweep

# Transient: the database was unreachable before the turn could be claimed or finished. A retry is safe:
# the claim makes a second run of a turn that is already running or finished do nothing.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="sessions.turn_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=5,
    ignore_result=True,
)
def turn_execute_task(turn_id: int) -> str:
    """Run turn `turn_id` (claimed atomically; a redelivered task exits quietly)."""
    return turn_execute(int(turn_id), worker=f"celery:{os.uname().nodename}:{os.getpid()}")


@shared_task(name="sessions.turns_sweep", ignore_result=True)
def turns_sweep_task() -> int:
    """Fail turns whose worker died (schedule it with celery beat, or run `manage.py sweep_turns`)."""
    return turns_sweep()
