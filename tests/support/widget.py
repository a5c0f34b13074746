"""Test support for the website widget: a published agent with a key for one origin, a client that sends the
widget's headers, and identity signatures made the way a site's backend makes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from django.test import Client

from agents.models import Agent, WidgetKey
from agents.widget_keys import widget_key_create, widget_key_update
from behavior.services.audit import SYSTEM
from behavior.services.versions import version_publish

SITE = "https://shop.example.com"
OTHER_SITE = "https://evil.example.net"


def published(agent: Agent) -> Agent:
    version_publish(agent, actor=SYSTEM, note="for the widget")
    return agent


def widget_key_for(agent: Agent, *, origins: list[str] | None = None, enforce: bool = False) -> WidgetKey:
    key = widget_key_create(agent=agent)
    return widget_key_update(key, allowed_origins=origins or [SITE], enforce_identity=enforce, enabled=True)


class WidgetClient:
    """Sends requests as the widget script does: the key header, the site's Origin, the customer token."""

    def __init__(self, key: WidgetKey, *, origin: str | None = SITE, address: str = "203.0.113.7") -> None:
        self.client = Client()
        self.key = key
        self.origin = origin
        self.address = address
        self.token: str | None = None

    def headers(self, *, token: str | None = None, public_key: str | None = None) -> dict[str, str]:
        headers = {"X-Decorum-Key": public_key if public_key is not None else self.key.public_key}
        if self.origin is not None:
            headers["Origin"] = self.origin
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def post(self, path: str, body: Any = None, **options: Any) -> Any:
        return self.client.post(
            f"/widget/v1/{path}",
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers(**options),
            REMOTE_ADDR=self.address,
        )

    def get(self, path: str, **options: Any) -> Any:
        return self.client.get(f"/widget/v1/{path}", headers=self.headers(**options), REMOTE_ADDR=self.address)

    def start(self, identity: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST /visitor; keeps the token it answers."""
        response = self.post("visitor", {"identity": identity})
        assert response.status_code == 200, response.content
        data: dict[str, Any] = response.json()
        self.token = data["token"]
        return data

    def open_session(self) -> dict[str, Any]:
        response = self.post("sessions")
        assert response.status_code in (200, 201), response.content
        data: dict[str, Any] = response.json()
        return data


def hmac_token(secret: str, external_id: str) -> str:
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_token(secret: str, claims: dict[str, Any], *, alg: str = "HS256", signature: bytes | None = None) -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signed = f"{header}.{payload}".encode()
    if signature is None:
        signature = hmac.new(secret.encode(), signed, hashlib.sha256).digest() if alg == "HS256" else b""
    return f"{header}.{payload}.{_b64(signature)}"


def in_seconds(seconds: float) -> int:
    return int(time.time() + seconds)


def scripted_turns(settings: Any, monkeypatch: Any, **engine: Any) -> Any:
    """Turns run inline after commit with a scripted engine (tests/support/realtime.py), so a transactional
    test that posts a message has no turn running in a background thread."""
    from tests.support.realtime import ScriptedEngine, realtime_settings

    realtime_settings(settings)
    scripted = ScriptedEngine(**({"reply": "Happy to help."} | engine))
    monkeypatch.setattr("sessions.services.turns.run_turn", scripted)
    return scripted
