"""API keys: shown once, stored hashed, authenticated in constant time, revocable."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from agents.models import ApiKey
from agents.services import api_key_authenticate, api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def test_it_creates_a_key_returning_the_plaintext_once_and_storing_only_its_hash(admin_user: Any) -> None:
    key, raw = api_key_create(name="CI", role="editor", created_by=admin_user)
    assert raw.startswith(f"dec_{key.prefix}_")
    assert len(key.prefix) == 8
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {value for value in vars(stored).values() if isinstance(value, str)}
    assert stored.created_by == admin_user
    assert stored.role == "editor"


def test_two_keys_get_different_prefixes_and_secrets() -> None:
    first, first_raw = api_key_create(name="one", role="tester", created_by=None)
    second, second_raw = api_key_create(name="two", role="tester", created_by=None)
    assert first.prefix != second.prefix
    assert first_raw != second_raw


@pytest.mark.parametrize(("name", "role"), [("", "editor"), ("x" * 101, "editor"), ("ok", "superhero")])
def test_it_refuses_a_key_without_a_valid_name_or_role(name: str, role: str) -> None:
    with pytest.raises(ValueError):
        api_key_create(name=name, role=role, created_by=None)
    assert ApiKey.objects.count() == 0


def test_it_authenticates_the_exact_key_and_records_its_use() -> None:
    key, raw = api_key_create(name="CI", role="operator", created_by=None)
    assert key.last_used_at is None
    authenticated = api_key_authenticate(raw)
    assert authenticated is not None
    assert authenticated.pk == key.pk
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),
        lambda raw: raw.replace("dec_", "xyz_"),
        lambda raw: "dec_00000000_" + raw.split("_", 2)[2],
        lambda raw: "",
        lambda raw: raw + "x" * 500,
    ],
)
def test_it_rejects_a_wrong_or_malformed_key(mutate: Any) -> None:
    _key, raw = api_key_create(name="CI", role="operator", created_by=None)
    assert api_key_authenticate(mutate(raw)) is None


def test_it_rejects_a_revoked_key_and_keeps_the_first_revocation_time() -> None:
    key, raw = api_key_create(name="CI", role="admin", created_by=None)
    api_key_revoke(key)
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    assert revoked_at is not None
    assert api_key_authenticate(raw) is None
    api_key_revoke(ApiKey.objects.get(pk=key.pk))
    assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at
