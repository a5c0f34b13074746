"""The Django admin: every model's list and add pages render; an API key's plaintext is shown once."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client

from agents.models import ApiKey
from tests.factories import make_guideline, make_journey, make_session, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_every_registered_model_lists_and_opens_its_add_page(admin_client_logged_in: Client, agent: Any) -> None:
    make_guideline(agent)
    make_journey(agent, "rebooking")
    make_tool(agent, "lookup_booking")
    make_session(agent)
    ours = [model for model in apps.get_models() if model._meta.app_label in {"agents", "behavior", "conversations"}]
    unregistered = [model.__name__ for model in ours if model not in admin.site._registry]
    assert unregistered == []
    for model in ours:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client_logged_in.get(base).status_code == 200, base
        assert admin_client_logged_in.get(base + "?q=x").status_code == 200, base
        assert admin_client_logged_in.get(base + "add/").status_code in {200, 403}, base


def test_api_keys_are_not_created_in_the_django_admin_but_in_the_studio(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post("/admin/agents/apikey/add/", {"name": "CI key", "role": "tester"})
    assert response.status_code == 403
    assert not ApiKey.objects.exists()
