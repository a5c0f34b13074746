"""Webhooks: endpoints per agent, the deliveries an event creates, one delivery attempt, retries with exponential
backoff, redelivery. Deliveries are created in the transaction of what they report and sent after it commits."""

from __future__ import annotations

import functools
import ipaddress
import logging
import secrets
import socket
import sys
import threading
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx2
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent
from behavior.services.rows import invalid
from sessions.models import (
    Session,
    SessionSource,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEventType,
)
from sessions.webhooks.signing import body_bytes, signed_headers

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
RESPONSE_EXCERPT_CHARS = 500
ENDPOINTS_PER_AGENT_MAX = 20
# Sessions whose messages are reported: real customers (the sandbox is test traffic).
REPORTED_SOURCES = frozenset({SessionSource.WIDGET, SessionSource.API})

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


# ---------------------------------------------------------------- endpoints


def _url_check(url: Any) -> str:
    value = (url or "").strip() if isinstance(url, str) else ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", "an http:// or https:// address")
    if len(value) > 2000:
        raise invalid("url", "at most 2000 characters")
    if parts.username or parts.password:
        raise invalid("url", "no user name or password in the address (the signature authenticates us)")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and _is_private(parts.hostname):
        raise invalid("url", "a public address (private and loopback addresses are refused here)")
    return value


def _is_private(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def _event_types(values: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(values or []))
    unknown = [value for value in chosen if value not in WebhookEventType.values]
    if unknown:
        raise invalid("event_types", f"unknown event type {unknown[0]!r}")
    return chosen


def endpoint_create(
    *, agent: Agent, url: str, event_types: Iterable[str] | None = None, description: str = "", enabled: bool = True
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret; no event types means every type."""
    if WebhookEndpoint.objects.filter(agent=agent).count() >= ENDPOINTS_PER_AGENT_MAX:
        raise invalid("url", f"an agent has at most {ENDPOINTS_PER_AGENT_MAX} webhook endpoints")
    return WebhookEndpoint.objects.create(
        agent=agent,
        url=_url_check(url),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        event_types=_event_types(event_types),
        description=(description or "").strip()[:200],
        enabled=bool(enabled),
    )


def endpoint_update(
    endpoint: WebhookEndpoint, *, url: str, event_types: Iterable[str] | None, description: str, enabled: bool
) -> WebhookEndpoint:
    endpoint.url = _url_check(url)
    endpoint.event_types = _event_types(event_types)
    endpoint.description = (description or "").strip()[:200]
    endpoint.enabled = bool(enabled)
    endpoint.save()
    return endpoint


def endpoint_secret_rotate(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def endpoint_delete(endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


# ---------------------------------------------------------------- emitting


def webhooks_emit_on_commit(*, agent_id: int, event_type: str, data: Mapping[str, Any]) -> list[WebhookDelivery]:
    """One delivery per enabled endpoint of the agent that takes `event_type`, sent once the current transaction
    commits (nothing is sent for a rolled-back change). One query when the agent has no endpoint."""
    if event_type not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(agent_id=agent_id, enabled=True).select_related("agent")
        if not endpoint.event_types or event_type in endpoint.event_types
    ]
    deliveries = []
    now = timezone.now()
    for endpoint in endpoints:
        delivery_uid = uuid.uuid4()
        payload = {
            "id": str(delivery_uid),
            "type": event_type,
            "created_at": now.isoformat(),
            "agent": {"id": endpoint.agent_id, "name": endpoint.agent.name},
            "data": dict(data),
        }
        deliveries.append(
            WebhookDelivery.objects.create(
                uid=delivery_uid, endpoint=endpoint, event_type=event_type, payload=payload, next_attempt_at=now
            )
        )
    for delivery in deliveries:
        delivery_id = delivery.pk
        transaction.on_commit(functools.partial(delivery_schedule, delivery_id, countdown=0))
    return deliveries


def message_webhook_on_commit(session: Session, *, offset: int, source: str, data: Mapping[str, Any]) -> None:
    """`message.created` for a stored message of a real customer's conversation (widget or API)."""
    if getattr(session, "source", None) not in REPORTED_SOURCES:
        return
    operator = data.get("operator") if isinstance(data.get("operator"), Mapping) else None
    message: dict[str, Any] = {"offset": offset, "source": source, "text": str(data.get("text", ""))}
    if operator:
        message["operator"] = {"id": operator.get("id"), "name": operator.get("name")}
    webhooks_emit_on_commit(
        agent_id=session.agent_id,
        event_type=WebhookEventType.MESSAGE_CREATED,
        data={"session": {"uid": str(session.uid), "source": session.source, "mode": session.mode}, "message": message},
    )


# ---------------------------------------------------------------- delivering


def retry_delay_seconds(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: base * 2^(attempts - 1), capped."""
    base = int(settings.WEBHOOK_RETRY_BASE_SECONDS)
    return int(min(base * 2 ** max(attempts - 1, 0), int(settings.WEBHOOK_RETRY_MAX_SECONDS)))


def delivery_schedule(delivery_id: int, *, countdown: float) -> None:
    """Run an attempt after `countdown` seconds: inline (tests, only when due now), in this process (the embedded
    default) or as a Celery task."""
    if getattr(settings, "TURNS_RUN_INLINE", False):
        if countdown <= 0:
            delivery_attempt(delivery_id)
    elif settings.TURNS_IN_PROCESS:
        timer = threading.Timer(max(countdown, 0), lambda: _webhook_executor().submit(_attempt_in_thread, delivery_id))
        timer.daemon = True
        timer.start()
    else:
        from sessions.webhooks.tasks import webhook_deliver_task

        webhook_deliver_task.apply_async((delivery_id,), countdown=max(int(countdown), 0))


def _webhook_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook")
        return _executor


def _attempt_in_thread(delivery_id: int) -> None:
    close_old_connections()
    try:
        delivery_attempt(delivery_id)
    except Exception:
        logger.exception("Webhook delivery %s crashed", delivery_id)
    finally:
        close_old_connections()


def delivery_attempt(delivery_id: int) -> str:
    """One attempt: claim (pending and due → delivering), POST the signed body, then delivered, pending with the
    next attempt backed off, or failed after WEBHOOK_MAX_ATTEMPTS. Returns the status ("skipped" when the
    delivery was not ours to send: claimed elsewhere, finished, or not due)."""
    now = timezone.now()
    stale = now - timedelta(seconds=int(settings.WEBHOOK_TIMEOUT_SECONDS) * 4 + 30)
    claimable = Q(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=WebhookDeliveryStatus.DELIVERING, claimed_at__lt=stale
    )
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        status=WebhookDeliveryStatus.DELIVERING, claimed_at=now
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = body_bytes(delivery.payload)
    headers = signed_headers(
        secret=endpoint.secret, body=body, event_type=delivery.event_type, delivery_uid=str(delivery.uid)
    )
    status_code: int | None = None
    error, excerpt = "", ""
    try:
        host = urlsplit(endpoint.url).hostname or ""
        if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and _resolves_private(host):
            raise ConnectionRefusedError(f"{host} resolves to a private address")
        with httpx2.Client(
            timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS), follow_redirects=False, trust_env=False
        ) as client:
            response = client.post(endpoint.url, content=body, headers=headers)
        status_code, excerpt = response.status_code, response.text[:RESPONSE_EXCERPT_CHARS]
        if not 200 <= status_code < 300:
            error = f"The receiver answered HTTP {status_code}."
    except Exception as failure:  # any network failure is the receiver's to fix; we retry
        error = f"{type(failure).__name__}: {failure}"[:2000]
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error,
        "last_response": excerpt,
        "claimed_at": None,
    }
    if not error:
        changes.update(status=WebhookDeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None)
    elif attempts >= int(settings.WEBHOOK_MAX_ATTEMPTS):
        changes.update(status=WebhookDeliveryStatus.FAILED, next_attempt_at=None)
    else:
        delay = retry_delay_seconds(attempts)
        changes.update(status=WebhookDeliveryStatus.PENDING, next_attempt_at=timezone.now() + timedelta(seconds=delay))
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDeliveryStatus.DELIVERING).update(**changes)
    if changes["status"] == WebhookDeliveryStatus.PENDING:
        delivery_schedule(delivery.pk, countdown=retry_delay_seconds(attempts))
    return str(changes["status"])


def _resolves_private(host: str) -> bool:
    if _is_private(host):
        return True
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # the request itself will fail and be retried
    return any(_is_private(address) for address in addresses)


def delivery_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event again now (a new attempt of the same body; a failed delivery gets a fresh count)."""
    if delivery.status == WebhookDeliveryStatus.DELIVERING:
        return delivery
    now = timezone.now()
    reset_attempts = delivery.status == WebhookDeliveryStatus.FAILED
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDeliveryStatus.DELIVERING).update(
        status=WebhookDeliveryStatus.PENDING, next_attempt_at=now, **({"attempts": 0} if reset_attempts else {})
    )
    transaction.on_commit(lambda: delivery_schedule(delivery.pk, countdown=0))
    delivery.refresh_from_db()
    return delivery


def deliveries_due_run(*, limit: int = 200) -> int:
    """Attempt deliveries that are due but whose scheduled attempt was lost (a restart): the periodic sweep."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        delivery_attempt(delivery_id)
    return len(due)


SWEEP_EVERY_SECONDS = 60.0
_sweeper_started = False


def webhooks_sweeper_start() -> None:
    """The embedded default's stand-in for Celery beat: every minute, attempt due deliveries whose scheduled attempt
    was lost (a restart). Production schedules `sessions.webhooks_sweep` with beat instead."""
    global _sweeper_started
    if not settings.TURNS_IN_PROCESS or getattr(settings, "TURNS_RUN_INLINE", False):
        return
    if "pytest" in sys.modules:
        return  # the tests import the ASGI application; they run deliveries_due_run themselves

    with _executor_lock:
        if _sweeper_started:
            return
        _sweeper_started = True

    def sweep_forever() -> None:
        stop = threading.Event()
        while not stop.wait(SWEEP_EVERY_SECONDS):
            try:
                close_old_connections()
                deliveries_due_run()
            except Exception:
                logger.exception("The webhook sweep failed")
            finally:
                close_old_connections()

    threading.Thread(target=sweep_forever, name="webhook-sweep", daemon=True).start()
