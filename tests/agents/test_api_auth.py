"""API keys over HTTP: bearer authentication, the once-a-minute last-used stamp, key management by admins,
and the API's JSON answers for unknown routes and the interactive docs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agents.models import ApiKey
from agents.services import api_key_authenticate, api_key_create
from tests.api_helpers import ApiClient, api_client, api_user_for, assert_error

pytestmark = pytest.mark.django_db


def test_a_valid_key_is_accepted_and_a_revoked_one_is_refused_at_once() -> None:
    admin = api_client("admin")
    key, raw = api_key_create(user=api_user_for("editor"), name="integration", role="editor")
    editor = ApiClient(raw)
    assert editor.get("/agents").status_code == 200

    revoked = admin.delete(f"/api-keys/{key.pk}")

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert_error(editor.get("/agents"), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token dec_0123abcd_xxxxxxxxxxxxxxxxxxxxxxxx",
        "Bearer " + "a" * 5000,
    ],
)
def test_a_malformed_authorization_header_is_a_401(header: str) -> None:
    response = Client().get("/api/agents", headers={"Authorization": header} if header else {})
    assert_error(response, 401, "unauthorized")


def test_it_stamps_last_used_at_most_once_a_minute() -> None:
    key, raw = api_key_create(user=api_user_for("tester"), name="busy", role="tester")
    client = ApiClient(raw)
    assert client.get("/customers").status_code == 200
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None

    assert client.get("/customers").status_code == 200
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=an_hour_ago)
    assert client.get("/customers").status_code == 200
    assert ApiKey.objects.get(pk=key.pk).last_used_at > an_hour_ago


def test_authenticating_within_the_minute_does_not_write(django_assert_num_queries: Any) -> None:
    _key, raw = api_key_create(user=api_user_for("tester"), name="busy", role="tester")
    api_key_authenticate(raw)
    with django_assert_num_queries(2):  # the key with its owner, the owner's roles; no UPDATE
        assert api_key_authenticate(raw) is not None


def test_an_admin_creates_a_key_whose_secret_is_shown_once(admin_user: Any) -> None:
    admin = api_client("admin", user=admin_user)

    created = admin.post("/api-keys", {"name": "CI pipeline", "role": "tester"})

    assert created.status_code == 201
    body = created.json()
    assert body["role"] == "tester"
    assert body["user"] == admin_user.get_username()  # the caller's own key when no owner is named
    assert body["created_by"] == admin_user.get_username()
    assert body["key"].startswith(f"dec_{body['prefix']}_")
    assert ApiClient(body["key"]).get("/customers").status_code == 200
    listed = admin.get("/api-keys").json()
    assert body["id"] in [item["id"] for item in listed["items"]]
    assert all("key" not in item and "key_hash" not in item for item in listed["items"])
    assert "key" not in admin.get(f"/api-keys/{body['id']}").json()


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": "x", "role": "superuser"}, "role"),
        ({"name": "  ", "role": "editor"}, "name"),
        ({"role": "editor"}, "name"),
    ],
)
def test_it_refuses_a_key_without_a_valid_name_or_role(payload: dict[str, Any], path: str) -> None:
    admin = api_client("admin")
    before = ApiKey.objects.count()
    body = assert_error(admin.post("/api-keys", payload), 422, "validation_failed")
    assert body["details"][0]["path"] == path
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("role", ["editor", "tester", "operator"])
def test_only_admins_manage_keys(role: str) -> None:
    client = api_client(role)
    before = ApiKey.objects.count()
    assert_error(client.post("/api-keys", {"name": "sneaky", "role": "admin"}), 403, "forbidden")
    assert_error(client.get("/api-keys"), 403, "forbidden")
    assert ApiKey.objects.count() == before


def test_an_unknown_api_path_answers_json_404_for_any_method() -> None:
    admin = api_client("admin")
    assert_error(admin.get("/no-such-thing"), 404, "not_found")
    assert_error(admin.post("/agents/12/no-such-action", {"x": 1}), 404, "not_found")
    assert_error(admin.get("/agents/not-a-number"), 404, "not_found")


def test_an_id_too_large_for_the_database_is_a_422_not_a_crash() -> None:
    body = assert_error(api_client("admin").get(f"/agents/{2**64}"), 422, "validation_failed")
    assert body["details"][0]["path"] == "path.agent_id"


def test_the_openapi_schema_declares_bearer_auth_and_json_errors() -> None:
    schema = Client().get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())
    agents_get = schema["paths"]["/api/agents/{agent_id}"]["get"]
    for status in ("401", "403", "404", "422"):
        assert status in agents_get["responses"]
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "details"}


def test_a_key_over_its_rate_limit_gets_a_429_with_the_seconds_to_wait(settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    busy = api_client("tester")
    calm = api_client("tester")

    answers = [busy.get("/customers").status_code for _ in range(3)]
    refused = busy.get("/customers")

    assert answers == [200, 200, 200]
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["details"]["limit_per_minute"] == 3
    assert calm.get("/customers").status_code == 200  # the limit is per key


def test_an_address_presenting_wrong_keys_is_refused_after_the_allowed_failures(settings: Any) -> None:
    settings.API_AUTH_FAILURES_PER_MINUTE = 2
    guesser = ApiClient("dec_0123abcd_" + "x" * 32)

    assert_error(guesser.get("/agents"), 401, "unauthorized")
    assert_error(guesser.get("/agents"), 401, "unauthorized")
    assert_error(guesser.get("/agents"), 429, "rate_limited")
    assert api_client("tester").get("/customers").status_code == 200  # a valid key still gets in


def test_a_limit_of_zero_turns_the_rate_limit_off(settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    client = api_client("tester")

    assert all(client.get("/customers").status_code == 200 for _ in range(5))


def test_an_admin_creates_a_key_for_another_user_with_no_more_than_their_roles(tester_user: Any) -> None:
    admin = api_client("admin")

    created = admin.post("/api-keys", {"name": "tester's CI", "role": "tester", "user": "tester"})
    refused = admin.post("/api-keys", {"name": "too strong", "role": "editor", "user": "tester"})
    unknown = admin.post("/api-keys", {"name": "ghost's", "role": "tester", "user": "ghost"})

    assert created.status_code == 201
    assert created.json()["user"] == "tester"
    assert ApiKey.objects.get(pk=created.json()["id"]).user == tester_user
    assert assert_error(refused, 422, "validation_failed")["details"][0]["path"] == "role"
    assert assert_error(unknown, 422, "validation_failed")["details"][0]["path"] == "user"


def test_a_key_whose_owner_loses_the_role_or_is_deactivated_gets_a_401(tester_user: Any, editor_user: Any) -> None:
    from django.contrib.auth.models import Group

    tester = api_client("tester", user=tester_user)
    editor = api_client("editor", user=editor_user)
    assert tester.get("/customers").status_code == 200
    assert editor.get("/agents").status_code == 200

    tester_user.groups.remove(Group.objects.get(name="tester"))
    editor_user.is_active = False
    editor_user.save(update_fields=["is_active"])

    assert_error(tester.get("/customers"), 401, "unauthorized")
    assert_error(editor.get("/agents"), 401, "unauthorized")


def test_a_key_is_capped_by_its_role_though_its_owner_holds_more(admin_user: Any) -> None:
    operator_key_of_an_admin = api_client("operator", user=admin_user)
    body = assert_error(operator_key_of_an_admin.get("/api-keys"), 403, "forbidden")
    assert body["details"]["role"] == "operator"


def test_the_request_user_of_an_api_call_is_the_keys_owner_not_the_browser_session(
    client: Client, tester_user: Any, admin_user: Any
) -> None:
    client.force_login(admin_user)  # a browser session of an admin must not lend its rights to a tester's key
    _key, raw = api_key_create(user=tester_user, name="mine", role="tester")

    answer = client.get("/api/api-keys", headers={"Authorization": f"Bearer {raw}"})

    assert_error(answer, 403, "forbidden")
