"""The shared small world: one user per role plus an outsider, two agents, a customer and a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from agents.models import Agent
from sessions.models import Customer, Session
from tests.factories import make_agent, make_customer, make_session, make_user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 costs ~100 ms per user; tests do not need the work factor."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_from_the_source_tree(settings: Any) -> None:
    """Tests run no collectstatic, so even with DEBUG=false static files resolve and are served unhashed from
    static/ (tests/test_static_files.py and tests/e2e check the collected, hashed files)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _lint_with_the_fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The studio's pages lint the draft with the engine's embedder; tests use the fake one (the real model is
    slow to load, and its cache rows would be written outside the test's transaction by another thread).
    Tests of the similarity checks pass their own embedder."""
    from tests.engine.fakes import FakeEmbedder

    monkeypatch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())


@pytest.fixture(autouse=True)
def _fresh_rate_limit_windows() -> None:
    """Rate-limit counters live in the cache, which outlives a test's database transaction."""
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.RATE_LIMIT_CACHE].clear()


@pytest.fixture
def admin_user(db: None) -> Any:
    """A superuser in the admin group (may use the Django admin)."""
    return make_user("admin", "admin", superuser=True)


@pytest.fixture
def editor_user(db: None) -> Any:
    return make_user("editor", "editor")


@pytest.fixture
def tester_user(db: None) -> Any:
    return make_user("tester", "tester")


@pytest.fixture
def operator_user(db: None) -> Any:
    return make_user("operator", "operator")


@pytest.fixture
def outsider_user(db: None) -> Any:
    """Logged in, but holds no role."""
    return make_user("outsider")


@pytest.fixture
def agent(db: None) -> Agent:
    return make_agent("Skyway Support")


@pytest.fixture
def other_agent(db: None) -> Agent:
    return make_agent("Other Agent")


@pytest.fixture
def customer(db: None) -> Customer:
    return make_customer("Ada Lovelace", external_id="cust-ada")


@pytest.fixture
def session(agent: Agent, customer: Customer) -> Session:
    return make_session(agent, customer)


# A logged-in test client per role (the studio's and sandbox's page tests).
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
