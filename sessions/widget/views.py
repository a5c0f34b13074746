"""The widget's public HTTP endpoints under /widget/v1/ (docs/widget.md): JSON in and out, no cookie and no CSRF
token (the customer token travels in `Authorization`), the key and the origin checked on every request, CORS
headers only for an allowed origin. The long-poll of events is an async view that waits on the channel layer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from agents.models import WidgetKey
from config.errors import DomainError, PayloadTooLarge, RateLimited, Unauthorized, ValidationFailed
from sessions.broadcast import EVENT, REWOUND, home_loop_register, session_group, typing_broadcast_now
from sessions.consumers import database_call
from sessions.models import Session, WidgetVisitor
from sessions.widget import services
from sessions.widget.security import (
    cors_headers,
    message_rate_check,
    preflight_response,
    request_origin,
    request_rate_check,
    widget_key_checked,
)
from sessions.widget.selectors import widget_events_since, widget_session_dict
from sessions.widget.serializers import customer_event_dict

RECHECK_SECONDS = 3.0  # the long-poll re-reads the database this often, in case a broadcast was lost
BODY_OVERHEAD_BYTES = 4096


@dataclass(frozen=True)
class WidgetCall:
    """A request that passed the checks: its key, the visitor its token names (None where none is needed),
    the peer address and the JSON body."""

    key: WidgetKey
    visitor: WidgetVisitor | None
    address: str
    body: dict[str, Any]


class MethodNotAllowed(DomainError):
    status = 405
    code = "method_not_allowed"


def error_response(error: DomainError) -> JsonResponse:
    response = JsonResponse(
        {"code": error.code, "message": error.message, "details": error.details}, status=error.status
    )
    if isinstance(error, RateLimited) and isinstance(error.details, dict):
        response["Retry-After"] = str(error.details.get("retry_after_seconds", 60))
    return response


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.method not in ("POST", "PUT", "PATCH"):
        return {}
    limit = int(settings.MAX_CUSTOMER_MESSAGE_CHARS) * 12 + BODY_OVERHEAD_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    try:
        raw = request.body if declared <= limit else b""
    except RequestDataTooBig:
        declared = limit + 1
    if declared > limit or len(raw) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.", details={"limit_bytes": limit})
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=lambda name: _not_json(name))
    except (ValueError, UnicodeDecodeError):
        raise DomainError("The request body is not JSON.", code="bad_request") from None
    if not isinstance(data, dict):
        raise DomainError("The request body must be a JSON object.", code="bad_request")
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _checked(request: HttpRequest, *, methods: tuple[str, ...], needs_visitor: bool) -> tuple[WidgetCall, str]:
    """The request's WidgetCall and the origin to give CORS headers to. Raises DomainError; the caller gives
    CORS headers to the error only when `request.widget_cors_origin` was set (key and origin passed)."""
    from config.ratelimit import client_address

    origin = request_origin(request)
    key_error: DomainError | None = None
    key: WidgetKey | None = None
    try:
        key = widget_key_checked(request.headers.get("X-Decorum-Key"), origin)
    except DomainError as error:
        key_error = error
    else:
        request.widget_cors_origin = request.headers.get("Origin") or ""  # type: ignore[attr-defined]
    request_rate_check(request)  # counted whatever the key: refused requests are limited too
    if key_error is not None:
        raise key_error
    assert key is not None
    if request.method not in methods:
        raise MethodNotAllowed(f"Use {' or '.join(methods)} here.")
    token = _bearer(request)
    visitor: WidgetVisitor | None = None
    if needs_visitor:
        if token is None:
            raise Unauthorized("The customer token is missing.", code="token_invalid")
        visitor = services.widget_visitor_from_token(key=key, token=token)
    return WidgetCall(key=key, visitor=visitor, address=client_address(request), body=_body(request)), origin or ""


def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")  # the long-poll skips SecurityMiddleware
    origin = getattr(request, "widget_cors_origin", "")
    return cors_headers(response, origin) if origin else response


def widget_endpoint(
    *methods: str, needs_visitor: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A widget view: OPTIONS answers the preflight; the checks run, then the view with its WidgetCall; a
    DomainError becomes its JSON answer."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                return preflight_response(request)
            try:
                call, _ = _checked(request, methods=methods, needs_visitor=needs_visitor)
                response = view(request, call, **kwargs)
            except DomainError as error:
                response = error_response(error)
            return _finish(request, response)

        return wrapper

    return decorate


def _session(call: WidgetCall, uid: str) -> Session:
    assert call.visitor is not None
    return services.widget_session_get(visitor=call.visitor, uid=uid)


# ---------------------------------------------------------------- endpoints


@widget_endpoint("POST", needs_visitor=False)
def visitor_start(request: HttpRequest, call: WidgetCall) -> HttpResponse:
    identity = services.identity_parse(call.body.get("identity"))
    started = services.widget_visitor_start(key=call.key, token=_bearer(request), identity=identity)
    agent = call.key.agent
    available = agent.published_version_id is not None
    return JsonResponse(
        {
            "token": started.token,
            "token_expires_at": started.expires_at.isoformat(),
            "visitor": {
                "identified": started.visitor.external_id is not None,
                "verified": started.visitor.verified,
                "name": started.visitor.customer.name if started.visitor.external_id is not None else "",
            },
            "agent": {
                "name": agent.name,
                "available": available,
                "message": "" if available else services.UNAVAILABLE_MESSAGE,
            },
            "session": widget_session_dict(started.session) if started.session is not None else None,
            "limits": {"max_message_chars": int(settings.MAX_CUSTOMER_MESSAGE_CHARS)},
        }
    )


@widget_endpoint("POST")
def session_open(request: HttpRequest, call: WidgetCall) -> HttpResponse:
    assert call.visitor is not None
    session, created = services.widget_session_open(visitor=call.visitor, address=call.address)
    return JsonResponse(widget_session_dict(session), status=201 if created else 200)


@widget_endpoint("GET")
def session_detail(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    return JsonResponse(widget_session_dict(_session(call, uid)))


@widget_endpoint("POST")
def message_create(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    session = _session(call, uid)
    message_rate_check(session.pk)
    event = services.widget_message_post(session, text=call.body.get("text"))
    return JsonResponse({"event": customer_event_dict(event)}, status=201)


@widget_endpoint("POST")
def handoff_create(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    session = services.widget_handoff_request(_session(call, uid))
    return JsonResponse(widget_session_dict(session))


@widget_endpoint("POST")
def typing_create(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    session = _session(call, uid)
    if session.closed_at is None:
        typing_broadcast_now(session.uid, who="customer", name=session.customer.name)
    return HttpResponse(status=204)


@widget_endpoint("POST")
def session_close(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    session = services.widget_session_close(_session(call, uid))
    return JsonResponse(widget_session_dict(session))


@widget_endpoint("POST")
def rating_set(request: HttpRequest, call: WidgetCall, uid: str) -> HttpResponse:
    session = _session(call, uid)
    rating = services.widget_rating_set(
        session, scale=call.body.get("scale"), score=call.body.get("score"), comment=call.body.get("comment") or ""
    )
    return JsonResponse({"rating": {"scale": rating.scale, "score": rating.score, "comment": rating.comment}})


# ---------------------------------------------------------------- long-poll


def _poll_arguments(request: HttpRequest) -> tuple[int, float]:
    try:
        after = int(request.GET.get("after", "0"))
        wait = float(request.GET.get("wait", "0"))
    except ValueError:
        raise ValidationFailed(
            '"after" is the last offset seen and "wait" the seconds to wait, both numbers.',
            details=[{"path": "after", "message": "a whole number"}],
        ) from None
    if after < 0 or wait != wait:  # NaN
        raise ValidationFailed('"after" cannot be negative.', details=[{"path": "after", "message": "at least 0"}])
    return after, max(0.0, min(wait, float(settings.WIDGET_LONG_POLL_MAX_SECONDS)))


def _poll_prepare(request: HttpRequest, uid: str) -> tuple[Session, int, float] | HttpResponse:
    try:
        call, _ = _checked(request, methods=("GET",), needs_visitor=True)
        after, wait = _poll_arguments(request)
        return _session(call, uid), after, wait
    except DomainError as error:
        return _finish(request, error_response(error))


def _poll_answer(request: HttpRequest, session: Session, events: list[dict[str, Any]], last: int) -> HttpResponse:
    body = widget_session_dict(session)
    return _finish(request, JsonResponse({"events": events, "last_offset": max(last, 0), "session": body}))


@csrf_exempt
async def session_events(request: HttpRequest, uid: str) -> HttpResponse:
    """`GET …/events?after=N&wait=S`: the customer-visible events after N; with none yet, wait up to S seconds
    (at most WIDGET_LONG_POLL_MAX_SECONDS) on the session's group without holding a thread, re-reading the
    database every few seconds in case a broadcast went missing."""
    if request.method == "OPTIONS":
        return await database_call(preflight_response)(request)
    prepared = await database_call(_poll_prepare)(request, uid)
    if isinstance(prepared, HttpResponse):
        return prepared
    session, after, wait = prepared
    events, last = await database_call(widget_events_since)(session, after=after)
    if not events and wait > 0:
        events, last = await _wait_for_events(session, last=last, wait=wait)
    return await database_call(_poll_answer)(request, session, events, last)


async def _wait_for_events(session: Session, *, last: int, wait: float) -> tuple[list[dict[str, Any]], int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    layer = get_channel_layer()
    channel: str | None = None
    group = session_group(session.uid)
    if layer is not None:
        home_loop_register()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
    try:
        # Read again once subscribed: an event committed before the join is in the database, one after in the queue.
        events, last = await database_call(widget_events_since)(session, after=last)
        next_check = loop.time() + RECHECK_SECONDS
        while not events:
            now = loop.time()
            if now >= deadline:
                break
            timeout = min(deadline, next_check) - now
            changed = False
            if channel is not None:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), timeout=timeout)
                    changed = message.get("type") in (EVENT, REWOUND)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(timeout)
            if changed or loop.time() >= next_check:
                events, last = await database_call(widget_events_since)(session, after=last)
                next_check = loop.time() + RECHECK_SECONDS
        return events, last
    finally:
        if channel is not None:
            await layer.group_discard(group, channel)
