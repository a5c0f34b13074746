"""Helpers for the REST API tests: a JSON client authenticated with an API key of a given role (owned by a user
holding that role)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from agents.services import api_key_create


class ApiClient:
    """Django's test client speaking JSON to /api/ with `Authorization: Bearer <key>` (or none)."""

    def __init__(self, raw_key: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        **query: Any,
    ) -> Any:
        url = path if path.startswith("/api/") else f"/api{path}"
        if query:
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(query)}"
        data: Any = raw if raw is not None else (json.dumps(body) if body is not None else None)
        handler = getattr(self.client, method.lower())
        if data is None and method.upper() in {"GET", "DELETE"}:
            return handler(url, headers=self.headers)
        return handler(url, data=data or "", content_type=content_type, headers=self.headers)

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, **query)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **query: Any) -> Any:
        return self.request("DELETE", path, **query)


def api_user_for(role: str) -> Any:
    """The user behind `api_client(role)` keys, shared by every such key of a test: holds exactly `role`."""
    from django.contrib.auth import get_user_model

    from tests.factories import make_user

    return get_user_model().objects.filter(username=f"api-{role}").first() or make_user(f"api-{role}", role)


def api_client(role: str | None, *, user: Any = None, created_by: Any = None) -> ApiClient:
    """A client holding a fresh key of `role` owned by `user` (default: api_user_for(role)); None: no
    Authorization header at all."""
    if role is None:
        return ApiClient(None)
    owner = user if user is not None else api_user_for(role)
    _key, raw = api_key_create(user=owner, name=f"{role} key", role=role, created_by=created_by or owner)
    return ApiClient(raw)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a JSON error {code, message, details} with this status (and code)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body
