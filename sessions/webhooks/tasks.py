"""Celery tasks of webhooks: one attempt of one delivery (claimed, so a redelivered task does nothing) and the
periodic sweep of due deliveries whose scheduled attempt was lost."""

from __future__ import annotations

from celery import shared_task

from config.tasks import CLAIMED_TASK_OPTIONS
from sessions.webhooks.services import deliveries_due_run, delivery_attempt


@shared_task(name="sessions.webhook_deliver", **CLAIMED_TASK_OPTIONS)
def webhook_deliver_task(delivery_id: int) -> str:
    return delivery_attempt(int(delivery_id))


@shared_task(name="sessions.webhooks_sweep", ignore_result=True)
def webhooks_sweep_task() -> int:
    return deliveries_due_run()
