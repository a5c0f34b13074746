"""Every API operation, from one table (tests/api_helpers.ENDPOINTS): authentication, roles, success, unknown
ids, malformed and oversized bodies, and garbage input that must never produce a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agents.models import ApiKey
from agents.services import api_key_create, api_key_revoke
from tests.api_endpoints import ALL_ROLES, ENDPOINTS, Endpoint, call, make_world
from tests.api_helpers import ApiClient, api_client, api_user_for, assert_error

pytestmark = pytest.mark.django_db

WITH_BODY = [endpoint for endpoint in ENDPOINTS if endpoint.body is not None]
WITH_IDS = [endpoint for endpoint in ENDPOINTS if endpoint.missing is not None]


def _least_privileged(endpoint: Endpoint) -> str:
    return next((role for role in endpoint.roles if role != "admin"), "admin")


def _assert_success(response: Any, endpoint: Endpoint) -> None:
    assert response.status_code == endpoint.status, (endpoint.name, response.status_code, response.content[:400])
    if endpoint.status != 204:
        assert response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_every_endpoint_answers_401_for_a_missing_wrong_or_revoked_key(endpoint: Endpoint) -> None:
    world = make_world()
    _key, raw = api_key_create(user=api_user_for("admin"), name="soon revoked", role="admin")
    api_key_revoke(ApiKey.objects.get(name="soon revoked"))
    for client in (ApiClient(None), ApiClient("dec_00000000_" + "x" * 43), ApiClient(raw), ApiClient("not a key")):
        response = call(client, endpoint, world)
        body = assert_error(response, 401, "unauthorized")
        assert "API key" in body["message"]
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_every_endpoint_refuses_other_roles_with_403_and_serves_its_roles(endpoint: Endpoint) -> None:
    world = make_world()
    if endpoint.prepare:
        endpoint.prepare(world)
    for role in ALL_ROLES:
        if role in endpoint.roles:
            continue
        body = assert_error(call(api_client(role), endpoint, world), 403, "forbidden")
        assert body["details"]["role"] == role
    _assert_success(call(api_client(_least_privileged(endpoint)), endpoint, world), endpoint)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_an_admin_key_may_call_every_endpoint(endpoint: Endpoint) -> None:
    world = make_world()
    if endpoint.prepare:
        endpoint.prepare(world)
    _assert_success(call(api_client("admin"), endpoint, world), endpoint)


@pytest.mark.parametrize("endpoint", WITH_IDS, ids=str)
def test_every_endpoint_with_an_id_answers_404_for_an_unknown_one(endpoint: Endpoint) -> None:
    world = make_world()
    assert endpoint.missing is not None
    response = call(api_client("admin"), endpoint, world, path=endpoint.missing(world))
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_every_endpoint_with_a_body_answers_400_for_invalid_json(endpoint: Endpoint) -> None:
    world = make_world()
    client = api_client("admin")
    for raw in ('{"name": ', "{'single': 'quotes'}", '{"temperature": NaN}', b"\xff\xfe{}"):
        response = client.request(endpoint.method, endpoint.path(world), raw=raw)
        body = assert_error(response, 400, "invalid_json")
        assert "JSON" in body["message"]


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_every_endpoint_with_a_body_answers_413_for_an_oversized_body(endpoint: Endpoint, settings: Any) -> None:
    world = make_world()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    raw = '{"name": "' + "x" * 5000 + '"}'
    response = api_client("admin").request(endpoint.method, endpoint.path(world), raw=raw)
    body = assert_error(response, 413, "payload_too_large")
    assert body["details"] == {"limit_bytes": 4096}


def _garbage(valid: dict[str, Any]) -> list[Any]:
    """Bodies that are wrong in every way a client could get them wrong."""
    values: list[Any] = [
        None,
        True,
        -1,
        0,
        10**40,
        1.5,
        "",
        " ",
        "x" * 100_000,
        "nul\x00byte",
        "\ud800",
        [],
        [None],
        [{"a": 1}],
        {},
        {"nested": {"deep": [1, 2]}},
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "'; DROP TABLE agents_agent; --",
    ]
    bodies: list[Any] = [[], "text", 42, None, {}, {"unexpected": 1}, {**valid, "unexpected": 1}]
    for field in valid:
        for value in values:
            bodies.append({**valid, field: value})
        bodies.append({key: item for key, item in valid.items() if key != field})
    return bodies


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_garbage_in_any_field_gets_a_json_client_error_never_a_500(endpoint: Endpoint) -> None:
    world = make_world()
    if endpoint.prepare:
        endpoint.prepare(world)
    client = api_client("admin")
    assert endpoint.body is not None
    valid = endpoint.body(world)
    for body in _garbage(valid):
        response = client.request(endpoint.method, endpoint.path(world), raw=_json(body))
        if response.status_code < 300:
            continue  # some garbage is valid input (an empty title, a missing optional field)
        assert 400 <= response.status_code < 500, (
            endpoint.name,
            body if len(str(body)) < 300 else "...",
            response.content[:300],
        )
        assert_error(response, response.status_code)


def _json(body: Any) -> str:
    import json

    # ensure_ascii keeps lone surrogates as \ud800 escapes, as a real client would send them
    return json.dumps(body, ensure_ascii=True)


def test_the_openapi_schema_lists_every_endpoint_and_every_one_is_in_the_tested_table() -> None:
    from django.test import Client

    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in response.json()["paths"].items()
        for method in operations
    }
    world = make_world()
    tested = {(endpoint.method, _template(endpoint.path(world))) for endpoint in ENDPOINTS}
    assert documented == tested
    assert len(documented) >= 90


def _template(path: str) -> str:
    """A called path with its ids replaced by {}, as in the OpenAPI paths."""
    path = path.split("?")[0]
    path = re.sub(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "/{}", path)
    path = re.sub(r"/(\d+)(?=/|$)", "/{}", path)
    return path.replace("/diff/draft", "/diff/{}")


def test_the_interactive_docs_page_loads_without_a_key() -> None:
    from django.test import Client

    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


# The reads that take query parameters (the others ignore them).
READS = [endpoint for endpoint in ENDPOINTS if endpoint.name.endswith(" list") or endpoint.name == "export"]
QUERY_GARBAGE = ["", "abc", "-5", "1e999", "99999999999999999999999", "nul\x00"]
QUERY_NAMES = [
    "agent",
    "tag",
    "q",
    "limit",
    "offset",
    "enabled",
    "observation",
    "kind",
    "guideline",
    "customer",
    "mode",
]
QUERY_NAMES += ["source", "external_id", "after", "wait", "format", "version", "from"]


@pytest.mark.parametrize("endpoint", READS, ids=str)
def test_garbage_query_parameters_get_a_json_client_error_never_a_500(endpoint: Endpoint) -> None:
    world = make_world()
    client = api_client("admin")
    for name in QUERY_NAMES:
        for value in QUERY_GARBAGE:
            response = client.request("GET", endpoint.path(world), **{name: value})
            if response.status_code < 300:
                continue  # an ignored parameter, or a value that happens to be valid
            assert 400 <= response.status_code < 500, (endpoint.name, name, value, response.content[:300])
            assert_error(response, response.status_code)
