"""API keys: owned by a user, shown once, stored hashed, authenticated in constant time, revocable, and
working only while their owner is active and holds the key's role."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import Group

from agents.models import ApiKey
from agents.permissions import user_roles
from agents.services import api_key_authenticate, api_key_create, api_key_revoke
from config.errors import ValidationFailed
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db: None) -> Any:
    """A user holding every role but admin, so keys of each of those roles may belong to them."""
    return make_user("key-owner", "editor", "tester", "operator")


def test_it_creates_a_key_returning_the_plaintext_once_and_storing_only_its_hash(admin_user: Any) -> None:
    key, raw = api_key_create(user=admin_user, name="CI", role="editor", created_by=admin_user)
    assert raw.startswith(f"dec_{key.prefix}_")
    assert len(key.prefix) == 8
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {value for value in vars(stored).values() if isinstance(value, str)}
    assert stored.user == admin_user
    assert stored.created_by == admin_user
    assert stored.role == "editor"


def test_two_keys_get_different_prefixes_and_secrets(owner: Any) -> None:
    first, first_raw = api_key_create(user=owner, name="one", role="tester")
    second, second_raw = api_key_create(user=owner, name="two", role="tester")
    assert first.prefix != second.prefix
    assert first_raw != second_raw


@pytest.mark.parametrize(
    ("name", "role", "path"), [("", "editor", "name"), ("x" * 101, "editor", "name"), ("ok", "superhero", "role")]
)
def test_it_refuses_a_key_without_a_valid_name_or_role(owner: Any, name: str, role: str, path: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        api_key_create(user=owner, name=name, role=role)
    assert refused.value.details[0]["path"] == path
    assert ApiKey.objects.count() == 0


def test_a_key_needs_an_owner_who_is_active_and_holds_its_role(owner: Any) -> None:
    with pytest.raises(ValidationFailed, match="needs an owner"):
        api_key_create(user=None, name="orphan", role="tester")
    with pytest.raises(ValidationFailed, match="does not hold the admin role"):
        api_key_create(user=owner, name="too strong", role="admin")
    gone = make_user("gone", "tester", is_active=False)
    with pytest.raises(ValidationFailed, match="deactivated"):
        api_key_create(user=gone, name="for a ghost", role="tester")
    assert ApiKey.objects.count() == 0


def test_it_authenticates_the_exact_key_and_records_its_use(owner: Any) -> None:
    key, raw = api_key_create(user=owner, name="CI", role="operator")
    assert key.last_used_at is None
    authenticated = api_key_authenticate(raw)
    assert authenticated is not None
    assert authenticated.pk == key.pk
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_an_authenticated_key_acts_as_its_owner_with_no_more_than_its_role(owner: Any, admin_user: Any) -> None:
    _key, tester_raw = api_key_create(user=owner, name="tests", role="tester")
    _key, admin_raw = api_key_create(user=admin_user, name="everything", role="admin")
    _key, capped_raw = api_key_create(user=admin_user, name="capped", role="operator")

    tester_key = api_key_authenticate(tester_raw)
    admin_key = api_key_authenticate(admin_raw)
    capped_key = api_key_authenticate(capped_raw)

    assert tester_key is not None and tester_key.user == owner
    assert user_roles(tester_key.user) == {"tester"}  # not the owner's editor or operator roles
    assert admin_key is not None and user_roles(admin_key.user) == {"admin", "editor", "tester", "operator"}
    assert capped_key is not None and user_roles(capped_key.user) == {"operator"}


def test_a_key_stops_working_when_its_owner_loses_the_role(owner: Any) -> None:
    _key, raw = api_key_create(user=owner, name="tests", role="tester")
    assert api_key_authenticate(raw) is not None

    owner.groups.remove(Group.objects.get(name="tester"))

    assert api_key_authenticate(raw) is None


def test_a_key_stops_working_when_its_owner_is_deactivated_or_deleted(owner: Any) -> None:
    _key, raw = api_key_create(user=owner, name="tests", role="editor")
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert api_key_authenticate(raw) is None

    owner.delete()
    assert not ApiKey.objects.exists()  # the owner's keys go with them
    assert api_key_authenticate(raw) is None


def test_a_key_without_an_owner_does_not_work(owner: Any) -> None:
    key, raw = api_key_create(user=owner, name="tests", role="tester")
    ApiKey.objects.filter(pk=key.pk).update(user=None)  # as a key created before keys had owners
    assert api_key_authenticate(raw) is None


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
def test_it_rejects_a_wrong_or_malformed_key(owner: Any, mutate: Any) -> None:
    _key, raw = api_key_create(user=owner, name="CI", role="operator")
    assert api_key_authenticate(mutate(raw)) is None


def test_it_rejects_a_revoked_key_and_keeps_the_first_revocation_time(admin_user: Any) -> None:
    key, raw = api_key_create(user=admin_user, name="CI", role="admin")
    api_key_revoke(key)
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    assert revoked_at is not None
    assert api_key_authenticate(raw) is None
    api_key_revoke(ApiKey.objects.get(pk=key.pk))
    assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at
