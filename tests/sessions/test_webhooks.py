"""Outbound webhooks: signed bodies, which events go out, delivery to a real local receiver, retries with
exponential backoff, giving up, redelivery, and a delivery that is not ours to send."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from config.errors import ValidationFailed
from sessions.models import SessionSource, WebhookDelivery, WebhookEventType
from sessions.services.messages import customer_message_post
from sessions.webhooks.services import (
    deliveries_due_run,
    delivery_attempt,
    delivery_redeliver,
    endpoint_create,
    retry_delay_seconds,
    webhooks_emit_on_commit,
)
from sessions.webhooks.signing import body_bytes, signature_compute, signature_verify
from tests.factories import make_session

pytestmark = pytest.mark.django_db


class Receiver:
    """A loopback HTTP receiver answering with `status`; keeps what it received."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def _inline_deliveries(settings: Any) -> None:
    settings.TURNS_RUN_INLINE = True
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_MAX_ATTEMPTS = 3


@pytest.fixture
def emit(django_capture_on_commit_callbacks: Any) -> Any:
    """webhooks_emit_on_commit, then what runs on commit (the delivery attempt)."""

    def run(agent: Any, event_type: str, data: dict[str, Any]) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_emit_on_commit(agent_id=agent.pk, event_type=event_type, data=data)

    return run


def _due_now(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()

    assert signature_compute("whsec_test", 1700000000, body) == f"v1={expected}"


def test_a_receiver_refuses_a_wrong_secret_and_an_old_timestamp() -> None:
    body = body_bytes({"type": "message.created"})
    signature = signature_compute("right", 1700000000, body)

    assert signature_verify("right", timestamp="1700000000", body=body, signature=signature, now=1700000010)
    assert not signature_verify("wrong", timestamp="1700000000", body=body, signature=signature, now=1700000010)
    assert not signature_verify("right", timestamp="1700000000", body=body, signature=signature, now=1700009999)
    assert not signature_verify("right", timestamp="1700000000", body=body + b" ", signature=signature, now=1700000010)


def test_a_delivery_reaches_the_receiver_signed_and_is_logged_as_delivered(
    emit: Any, agent: Any, receiver: Receiver
) -> None:
    endpoint = endpoint_create(agent=agent, url=receiver.url)

    emit(agent, WebhookEventType.HANDOFF_REQUESTED, {"x": 1})

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    sent = receiver.requests[0]
    headers = {key.lower(): value for key, value in sent["headers"].items()}
    assert headers["x-decorum-event"] == "handoff.requested"
    assert headers["x-decorum-delivery"] == str(delivery.uid)
    assert signature_verify(
        endpoint.secret,
        timestamp=headers["x-decorum-timestamp"],
        body=sent["body"],
        signature=headers["x-decorum-signature"],
    )
    payload = json.loads(sent["body"])
    assert (payload["type"], payload["id"], payload["agent"]["id"], payload["data"]) == (
        "handoff.requested",
        str(delivery.uid),
        agent.pk,
        {"x": 1},
    )


def test_an_endpoint_gets_only_the_event_types_it_subscribed_to(emit: Any, agent: Any, receiver: Receiver) -> None:
    endpoint_create(agent=agent, url=receiver.url, event_types=[WebhookEventType.CONVERSATION_RATED])

    emit(agent, WebhookEventType.HANDOFF_TAKEN, {})
    emit(agent, WebhookEventType.CONVERSATION_RATED, {})

    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["conversation.rated"]


def test_messages_of_widget_sessions_go_out_and_sandbox_messages_do_not(
    agent: Any, customer: Any, receiver: Receiver, settings: Any
) -> None:
    settings.TURNS_RUN_INLINE = False
    settings.TURNS_IN_PROCESS = False
    endpoint_create(agent=agent, url=receiver.url)
    widget_session = make_session(agent=agent, customer=customer, source=SessionSource.WIDGET)
    sandbox_session = make_session(agent=agent, customer=customer, source=SessionSource.SANDBOX)

    from unittest import mock

    with (
        mock.patch("sessions.services.messages._enqueue_on_commit"),
        mock.patch("sessions.webhooks.services.delivery_schedule"),
    ):
        customer_message_post(widget_session, text="Where is my bag?")
        customer_message_post(sandbox_session, text="test traffic")

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "message.created"
    assert delivery.payload["data"]["session"]["uid"] == str(widget_session.uid)
    assert delivery.payload["data"]["message"] == {"offset": 1, "source": "customer", "text": "Where is my bag?"}


def test_a_failing_receiver_is_retried_with_exponential_backoff_then_given_up(
    emit: Any, agent: Any, receiver: Receiver
) -> None:
    receiver.status = 500
    endpoint_create(agent=agent, url=receiver.url)
    emit(agent, WebhookEventType.HANDOFF_TAKEN, {})
    delivery = WebhookDelivery.objects.get()
    waits = []
    for _ in range(2):
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds()))
        _due_now(delivery)
        assert deliveries_due_run() == 1

    delivery.refresh_from_db()
    assert waits == [10, 20]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert "HTTP 500" in delivery.last_error
    assert len(receiver.requests) == 3


def test_a_refused_connection_is_retried_too(emit: Any, agent: Any) -> None:
    endpoint_create(agent=agent, url="http://127.0.0.1:9/nothing-listens-here")

    emit(agent, WebhookEventType.HANDOFF_TAKEN, {})

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error


def test_the_backoff_doubles_and_is_capped(settings: Any) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 60

    assert [retry_delay_seconds(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_redelivering_a_failed_delivery_sends_the_same_body_again(
    emit: Any, django_capture_on_commit_callbacks: Any, agent: Any, receiver: Receiver
) -> None:
    receiver.status = 500
    endpoint_create(agent=agent, url=receiver.url)
    emit(agent, WebhookEventType.HANDOFF_TAKEN, {"n": 1})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    receiver.status = 204

    with django_capture_on_commit_callbacks(execute=True):
        delivery_redeliver(WebhookDelivery.objects.get(pk=delivery.pk))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("delivered", 204)
    assert receiver.requests[0]["body"] == receiver.requests[-1]["body"]


def test_an_attempt_does_nothing_when_the_delivery_is_already_claimed_or_done(
    emit: Any, agent: Any, receiver: Receiver
) -> None:
    endpoint_create(agent=agent, url=receiver.url)
    emit(agent, WebhookEventType.HANDOFF_TAKEN, {})
    delivery = WebhookDelivery.objects.get()

    assert delivery_attempt(delivery.pk) == "skipped"  # delivered already
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="delivering", claimed_at=timezone.now())
    assert delivery_attempt(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_an_endpoint_url_must_be_http_and_public_in_production(agent: Any, settings: Any) -> None:
    with pytest.raises(ValidationFailed):
        endpoint_create(agent=agent, url="ftp://example.com/hook")
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(ValidationFailed):
        endpoint_create(agent=agent, url="http://127.0.0.1:8000/hook")
    with pytest.raises(ValidationFailed):
        endpoint_create(agent=agent, url="http://10.0.0.5/hook")
