"""What Decorum's Celery tasks that claim their work share: one redelivered or retried run of a claimed turn or
lint run does nothing, so a task may be acknowledged late and retried when the database was unreachable."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

# Transient: the database was unreachable before the work could be claimed or finished. A retry is safe: the claim
# makes a second run of work that is already running or finished do nothing.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

# The options of such a task: `@shared_task(name="...", **CLAIMED_TASK_OPTIONS)`.
CLAIMED_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "max_retries": 5,
    "ignore_result": True,
}
