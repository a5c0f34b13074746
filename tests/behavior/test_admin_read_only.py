"""The Django admin shows the behavior model but cannot change it: every change goes through the services
(validation, revisions, audit trail), from the studio or the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import Guideline
from tests.factories import make_guideline

pytestmark = pytest.mark.django_db


def test_a_superuser_reads_a_guideline_in_the_admin_but_cannot_change_or_delete_it(
    admin_user: Any, agent: Agent
) -> None:
    guideline = make_guideline(agent, key="greet", condition="The customer says hello", action="Greet them")
    client = Client()
    client.force_login(admin_user)
    change_url = reverse("admin:behavior_guideline_change", args=[guideline.pk])

    page = client.get(change_url)
    assert page.status_code == 200 and "Save" not in page.content.decode().split("submit-row", 1)[-1][:500]
    client.post(change_url, {"key": "greet", "condition": "Changed", "agent": agent.pk, "criticality": "medium"})
    assert client.get(reverse("admin:behavior_guideline_add")).status_code == 403
    assert (
        client.post(reverse("admin:behavior_guideline_delete", args=[guideline.pk]), {"post": "yes"}).status_code == 403
    )
    guideline.refresh_from_db()
    assert guideline.condition == "The customer says hello"
    assert Guideline.objects.filter(pk=guideline.pk).exists()
