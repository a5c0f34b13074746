"""Celery tasks of conversations: one thin, idempotent task per turn (the work is in services.turns)."""

from __future__ import annotations

import os

from celery import shared_task

from config.tasks import CLAIMED_TASK_OPTIONS
from sessions.services.turns import turn_execute, turns_sweep
from sessions.webhooks.tasks import webhook_deliver_task, webhooks_sweep_task

__all__ = ["turn_execute_task", "turns_sweep_task", "webhook_deliver_task", "webhooks_sweep_task"]


@shared_task(name="sessions.turn_execute", **CLAIMED_TASK_OPTIONS)
def turn_execute_task(turn_id: int) -> str:
    """Run turn `turn_id` (claimed atomically; a redelivered task exits quietly)."""
    return turn_execute(int(turn_id), worker=f"celery:{os.uname().nodename}:{os.getpid()}")


@shared_task(name="sessions.turns_sweep", ignore_result=True)
def turns_sweep_task() -> int:
    """Fail turns whose worker died (schedule it with celery beat, or run `manage.py sweep_turns`)."""
    return turns_sweep()
