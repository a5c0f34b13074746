"""What every widget request passes: a known key, an allowed origin, the rate limits, and (websockets) a cap on
live connections per address. CORS headers are given only to allowed origins."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from agents.models import WidgetKey
from agents.widget_keys import origin_normalize, widget_key_by_public
from config.errors import DomainError, PermissionDenied, RateLimited, Unauthorized
from config.ratelimit import client_address, enforce_rate_limit

logger = logging.getLogger(__name__)

CONNECTION_COUNT_TTL_SECONDS = 3600
ALLOWED_HEADERS = "Authorization, Content-Type, X-Decorum-Key"


def widget_key_checked(public_key: str | None, origin: str | None) -> WidgetKey:
    """The key, when it exists, is enabled and lists `origin`. Unauthorized (widget_key_invalid) or
    PermissionDenied (origin_refused) otherwise."""
    key = widget_key_by_public(public_key or "")
    if key is None:
        raise Unauthorized("This widget key is unknown, disabled or was rotated.", code="widget_key_invalid")
    if not origin_allowed(key, origin):
        raise PermissionDenied("This website is not allowed to use this widget.", code="origin_refused")
    return key


def origin_allowed(key: WidgetKey, origin: str | None) -> bool:
    if not origin or origin == "null":
        return False
    try:
        normalised = origin_normalize(origin)
    except DomainError:
        return False
    return normalised in (key.allowed_origins or [])


def request_origin(request: HttpRequest) -> str | None:
    """The browser's Origin. A same-origin GET carries none in some browsers: when the browser says so itself
    (`Sec-Fetch-Site: same-origin`, a header pages cannot set), the origin is this server's own."""
    origin = request.headers.get("Origin")
    if origin:
        return origin
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return f"{request.scheme}://{request.get_host()}"
    return None


def origin_known(origin: str | None) -> bool:
    """Whether some enabled key lists `origin` (a preflight names no key)."""
    if not origin or origin == "null":
        return False
    try:
        normalised = origin_normalize(origin)
    except DomainError:
        return False
    lists = WidgetKey.objects.filter(enabled=True).values_list("allowed_origins", flat=True)
    return any(normalised in (origins or []) for origins in lists)


def preflight_response(request: HttpRequest) -> HttpResponse:
    """Answer a CORS preflight: 204 with CORS headers for an origin some key allows, 403 without them otherwise."""
    origin = request.headers.get("Origin")
    if origin and origin_known(origin):
        return cors_headers(HttpResponse(status=204), origin)
    return HttpResponse(status=403)


def cors_headers(response: HttpResponse, origin: str) -> HttpResponse:
    """Let the allowed origin read the answer (no cookies: the token travels in Authorization)."""
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def request_rate_check(request: HttpRequest) -> None:
    enforce_rate_limit(
        f"widget-ip:{client_address(request)}",
        int(settings.WIDGET_REQUESTS_PER_MINUTE_PER_IP),
        "Too many requests from your address.",
    )


def message_rate_check(session_id: int) -> None:
    enforce_rate_limit(
        f"widget-session:{session_id}",
        int(settings.WIDGET_MESSAGES_PER_MINUTE_PER_SESSION),
        "You are sending messages too fast.",
    )


def new_session_rate_check(address: str) -> None:
    """At most WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP new conversations an hour from one address."""
    limit = int(settings.WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP)
    if limit <= 0:
        return
    cache = caches[settings.RATE_LIMIT_CACHE]
    bucket = f"widget-new-sessions:{address}"
    try:
        cache.add(bucket, 0, timeout=3600)
        count = cache.incr(bucket)
    except Exception:
        logger.warning("new-session limit not checked: the cache is unreachable", exc_info=True)
        return
    if count > limit:
        raise RateLimited(
            f"Too many new conversations from your address (at most {limit} an hour).",
            details={"limit_per_hour": limit, "retry_after_seconds": 3600},
        )


def connection_open(address: str) -> bool:
    """Count a live websocket from `address`; False (not counted) when it is over WIDGET_CONNECTIONS_PER_IP."""
    limit = int(settings.WIDGET_CONNECTIONS_PER_IP)
    if limit <= 0:
        return True
    cache = caches[settings.RATE_LIMIT_CACHE]
    bucket = f"widget-connections:{address}"
    try:
        cache.add(bucket, 0, timeout=CONNECTION_COUNT_TTL_SECONDS)
        count = cache.incr(bucket)
        if count > limit:
            cache.decr(bucket)
            return False
    except Exception:
        logger.warning("connection cap not checked: the cache is unreachable", exc_info=True)
    return True


def connection_close(address: str) -> None:
    if int(settings.WIDGET_CONNECTIONS_PER_IP) <= 0:
        return
    cache = caches[settings.RATE_LIMIT_CACHE]
    try:
        if int(cache.get(f"widget-connections:{address}") or 0) > 0:
            cache.decr(f"widget-connections:{address}")
    except Exception:
        logger.warning("connection count not lowered: the cache is unreachable", exc_info=True)


def scope_address(scope: dict[str, Any]) -> str:
    """A websocket's peer address (as client_address for HTTP: set the proxy to pass the client's one)."""
    client = scope.get("client") or ("unknown", 0)
    return str(client[0] or "unknown")[:64]


def scope_origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None
