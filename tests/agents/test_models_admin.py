"""The Django admin: every model's list and add pages render; an API key's plaintext is shown once."""

from __future__ import annotations

import hashlib
import re
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


def test_creating_an_api_key_in_the_admin_shows_the_plaintext_once(
    admin_client_logged_in: Client, admin_user: Any
) -> None:
    response = admin_client_logged_in.post(
        "/admin/agents/apikey/add/", {"name": "CI key", "role": "tester"}, follow=True
    )
    assert response.status_code == 200
    shown = re.findall(r"dec_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content.decode())
    assert len(shown) == 1
    key = ApiKey.objects.get()
    assert key.created_by == admin_user
    assert key.key_hash == hashlib.sha256(shown[0].encode()).hexdigest()
    detail = admin_client_logged_in.get(f"/admin/agents/apikey/{key.pk}/change/")
    assert shown[0] not in detail.content.decode()
