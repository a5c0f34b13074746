"""The widget's long-poll outside Django's middleware chain. WhiteNoise (and any other sync-only middleware) makes
Django run a whole request, async view included, on a worker thread; a long-poll waiting 25 s would then hold a
thread each, and every request of the process waits behind the thread-sensitive ones. The long-poll needs no
middleware (no cookie, no CSRF, no login), so its one path goes to a handler without any."""

from __future__ import annotations

import re
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.urls import reverse

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


class MiddlewareFreeHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware chain: an async view runs on the event loop itself."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        get_response = self._get_response_async if is_async else self._get_response  # type: ignore[attr-defined]
        self._middleware_chain = convert_exception_to_response(get_response)


def long_poll_path() -> re.Pattern[str]:
    """The events path of any session, from the URL configuration (never a hard-coded path)."""
    example = reverse("widget:session-events", kwargs={"uid": PLACEHOLDER})
    return re.compile("^" + re.escape(example).replace(re.escape(PLACEHOLDER), "[^/]+") + "$")


def http_application(django_application: Any) -> Any:
    """HTTP: the widget's long-poll through the middleware-free handler, everything else through Django."""
    poll_path = long_poll_path()
    long_poll_handler = MiddlewareFreeHandler()

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if poll_path.match(scope.get("path", "")):
            await long_poll_handler(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return application
