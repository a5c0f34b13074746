"""Websocket routes. `websocket_urlpatterns` are for logged-in users, behind AllowedHostsOriginValidator and the
session login (sandbox, inbox); the widget's route checks its key's own origins and has no login, so it is
outside them. `websocket_application` puts the two together (config/asgi.py)."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import URLPattern, path, re_path

from sessions.consumers import SandboxConsumer
from sessions.inbox.consumers import InboxConsumer
from sessions.widget.consumers import WidgetConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/sandbox/sessions/<uuid:uid>/", SandboxConsumer.as_asgi(), name="ws-sandbox-session"),
    path("ws/inbox/", InboxConsumer.as_asgi(), name="ws-inbox"),
]

widget_websocket_urlpatterns: list[URLPattern] = [
    path("ws/widget/sessions/<uuid:uid>/", WidgetConsumer.as_asgi(), name="ws-widget-session"),
]


def websocket_application() -> Any:
    """The widget's route as it is; every other route behind the host/origin validator and the login."""
    logged_in = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    return URLRouter([*widget_websocket_urlpatterns, re_path(r"", logged_in)])
