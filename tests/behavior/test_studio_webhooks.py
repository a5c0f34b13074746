"""The studio's Webhooks pages of one agent: adding an endpoint (a bad URL refused beside the field), the signing
secret shown to editors only, the delivery log with status codes and errors, "Redeliver", and deleting."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from sessions.models import WebhookDelivery, WebhookEndpoint
from sessions.webhooks.services import endpoint_create
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_real_sending(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    scheduled: list[int] = []
    monkeypatch.setattr(
        "sessions.webhooks.services.delivery_schedule", lambda delivery_id, countdown: scheduled.append(delivery_id)
    )
    return scheduled


def html_of(response: Any) -> str:
    return str(response.content.decode())


def test_an_agent_without_endpoints_says_nothing_is_sent(editor_client: Any, agent: Any) -> None:
    response = editor_client.get(reverse("studio:webhook-list", args=[agent.pk]))

    assert response.status_code == 200
    assert "No endpoint yet: nothing is sent." in html_of(response)
    assert "Add endpoint" in html_of(response)


def test_an_editor_adds_an_endpoint_for_some_event_types(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(
        reverse("studio:webhook-create", args=[agent.pk]),
        {"url": "https://crm.example.com/decorum", "event_types": ["handoff.requested"], "enabled": "on"},
    )

    endpoint = WebhookEndpoint.objects.get(agent=agent)
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:webhook-detail", args=[agent.pk, endpoint.pk])
    assert (endpoint.url, endpoint.event_types, endpoint.enabled) == (
        "https://crm.example.com/decorum",
        ["handoff.requested"],
        True,
    )
    assert endpoint.secret.startswith("whsec_")


def test_a_bad_url_is_refused_beside_the_field_and_nothing_is_created(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:webhook-create", args=[agent.pk]), {"url": "ftp://crm.example.com"})

    assert response.status_code == 422
    assert "an http:// or https:// address" in html_of(response)
    assert not WebhookEndpoint.objects.exists()


def test_the_secret_is_shown_to_editors_and_not_to_testers(editor_client: Any, tester_client: Any, agent: Any) -> None:
    endpoint = endpoint_create(agent=agent, url="https://crm.example.com/hook")
    url = reverse("studio:webhook-detail", args=[agent.pk, endpoint.pk])

    assert endpoint.secret in html_of(editor_client.get(url))
    tester_page = tester_client.get(url)
    assert tester_page.status_code == 200
    assert endpoint.secret not in html_of(tester_page)
    assert "shown to editors only" in html_of(tester_page)


def test_the_delivery_log_shows_status_codes_and_errors(editor_client: Any, agent: Any) -> None:
    endpoint = endpoint_create(agent=agent, url="https://crm.example.com/hook")
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="handoff.taken",
        payload={},
        status="failed",
        attempts=8,
        last_status_code=503,
        last_error="The receiver answered HTTP 503.",
    )

    html = html_of(editor_client.get(reverse("studio:webhook-detail", args=[agent.pk, endpoint.pk])))

    assert "handoff.taken" in html and "HTTP 503" in html and "failed" in html and "Redeliver" in html


def test_redeliver_queues_a_failed_delivery_again(editor_client: Any, agent: Any, _no_real_sending: list[int]) -> None:
    endpoint = endpoint_create(agent=agent, url="https://crm.example.com/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="handoff.taken", payload={}, status="failed", attempts=8
    )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda function, **kwargs: function())
        response = editor_client.post(reverse("studio:webhook-redeliver", args=[agent.pk, endpoint.pk, delivery.pk]))

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert _no_real_sending == [delivery.pk]


def test_a_tester_cannot_redeliver_or_delete(tester_client: Any, agent: Any) -> None:
    endpoint = endpoint_create(agent=agent, url="https://crm.example.com/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="handoff.taken", payload={}, status="failed"
    )

    redeliver = tester_client.post(reverse("studio:webhook-redeliver", args=[agent.pk, endpoint.pk, delivery.pk]))
    delete = tester_client.post(reverse("studio:webhook-delete", args=[agent.pk, endpoint.pk]))

    assert (redeliver.status_code, delete.status_code) == (403, 403)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_another_agents_endpoint_is_not_found_through_this_agent(editor_client: Any, agent: Any) -> None:
    other = make_agent()
    endpoint = endpoint_create(agent=other, url="https://crm.example.com/hook")

    response = editor_client.get(reverse("studio:webhook-detail", args=[agent.pk, endpoint.pk]))

    assert response.status_code == 404


def test_an_editor_deletes_an_endpoint(editor_client: Any, agent: Any) -> None:
    endpoint = endpoint_create(agent=agent, url="https://crm.example.com/hook")

    response = editor_client.post(reverse("studio:webhook-delete", args=[agent.pk, endpoint.pk]))

    assert response.status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
