"""The studio's test world: a logged-in client per role, the hostile texts every page must show as text, and
the htmx header that asks for a fragment instead of a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

HX = {"HTTP_HX_REQUEST": "true"}
HOSTILE_TEXTS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def assert_shown_as_text(html: str, text: str) -> None:
    """`text` appears escaped in `html` and never as live markup."""
    from django.utils.html import escape

    assert text not in html, f"{text!r} reached the page unescaped"
    assert escape(text) in html, f"{text!r} is not on the page at all"


@pytest.fixture
def client_for(db: None) -> Callable[[Any], Client]:
    """A client logged in as `user` (or anonymous for None)."""

    def make(user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def editor_client(client_for: Callable[[Any], Client], editor_user: Any) -> Client:
    return client_for(editor_user)


@pytest.fixture
def tester_client(client_for: Callable[[Any], Client], tester_user: Any) -> Client:
    return client_for(tester_user)


@pytest.fixture
def outsider_client(client_for: Callable[[Any], Client], outsider_user: Any) -> Client:
    return client_for(outsider_user)


@pytest.fixture
def admin_client_(client_for: Callable[[Any], Client], admin_user: Any) -> Client:
    return client_for(admin_user)
