"""Websocket routes (sandbox and widget consumers)."""

from __future__ import annotations

from django.urls import URLPattern, path

from sessions.consumers import SandboxConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/sandbox/sessions/<uuid:uid>/", SandboxConsumer.as_asgi(), name="ws-sandbox-session"),
]
