"""The one NinjaAPI. Each app contributes one router; domain errors are mapped to JSON here, once."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from agents.api import router as agents_router
from behavior.api import router as behavior_router
from behavior.services.rows import validation_details
from config.api_auth import ApiKeyAuth
from config.api_docs import VendoredSwagger
from config.errors import DomainError, RateLimited
from sessions.api import router as sessions_router

logger = logging.getLogger(__name__)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class StrictJsonParser(Parser):
    """JSON bodies as RFC 8259 has them: NaN and Infinity are refused (the database could not store them)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body, parse_constant=_reject_constant)


api = NinjaAPI(
    title="Decorum API",
    version="1.0.0",
    description=(
        "Behavior modeling for customer-facing LLM agents. Authenticate with `Authorization: Bearer <api key>` "
        "(create one in the admin or with `manage.py create_api_key`). Errors are JSON "
        "`{code, message, details}`; validation errors list `{path, message}` in `details`."
    ),
    urls_namespace="api",
    auth=ApiKeyAuth(),
    parser=StrictJsonParser(),
    docs=VendoredSwagger(),  # /api/docs with the Swagger UI in static/vendor/, no CDN
)


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: object = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    response = error_response(
        request, status=error.status, code=error.code, message=error.message, details=error.details
    )
    if isinstance(error, RateLimited) and isinstance(error.details, dict):
        response["Retry-After"] = str(error.details.get("retry_after_seconds", 60))
    return response


def _validation_path(location: Any) -> str:
    parts = [str(part) for part in location]
    if len(parts) >= 2 and parts[0] == "body":
        parts = parts[2:]  # ("body", "payload", "name") -> "name"
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    details = [
        {
            "path": _validation_path(item.get("loc", ())),
            "message": str(item.get("msg", "")).removeprefix("Value error, "),
        }
        for item in error.errors
    ]
    first = details[0] if details else {"path": "", "message": "invalid"}
    message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return error_response(request, status=422, code="validation_failed", message=message, details=details)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = error_response(
        request,
        status=401,
        code="unauthorized",
        message="A valid API key is required (Authorization: Bearer <key>); it may be missing, wrong or revoked.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="decorum"'
    return response


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request,
        status=413,
        code="payload_too_large",
        message=f"The request body is larger than {limit} bytes.",
        details={"limit_bytes": limit},
    )


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return _too_large(request)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    cause = error.__cause__
    if isinstance(cause, RequestDataTooBig):
        return _too_large(request)
    if error.status_code == 400 and cause is not None:
        # ninja wraps every body parse failure in "Cannot parse request body"; say what was wrong.
        if isinstance(cause, json.JSONDecodeError):
            reason = f"line {cause.lineno}, column {cause.colno}: {cause.msg}"
        elif isinstance(cause, UnicodeDecodeError):
            reason = "the body is not UTF-8 text"
        elif isinstance(cause, RecursionError):
            reason = "values are nested too deeply"
        else:
            reason = str(cause)
        return error_response(
            request, status=400, code="invalid_json", message=f"The request body is not valid JSON: {reason}."
        )
    return error_response(request, status=error.status_code, code="http_error", message=str(error))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message=str(error) or "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def on_object_missing(request: HttpRequest, error: ObjectDoesNotExist) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message=str(error) or "Not found.")


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
    """A safety net: services map model validation to ValidationFailed; anything that slips through is
    still the client's input, reported with its field paths."""
    details = validation_details(error)
    message = details[0]["message"] if details else "The input is not valid."
    return error_response(request, status=422, code="validation_failed", message=message, details=details)


@api.exception_handler(IntegrityError)
def on_integrity_error(request: HttpRequest, error: IntegrityError) -> HttpResponse:
    """A safety net: services turn duplicates into Conflict; a constraint hit here is a concurrent write."""
    logger.warning("Unmapped IntegrityError on %s: %s", request.path, error)
    return error_response(
        request, status=409, code="conflict", message="The change conflicts with the current data; reload and retry."
    )


@api.exception_handler(Exception)
def on_unexpected_error(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(request, status=500, code="internal_error", message="Something went wrong on our side.")


api.add_router("", agents_router)
api.add_router("", behavior_router)
api.add_router("", sessions_router)


@csrf_exempt  # an API client has no CSRF token; it must see the JSON 404, not a CSRF page
def api_route_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Unknown paths under /api/ answer in the API's JSON error format, not Django's HTML page."""
    return error_response(request, status=404, code="not_found", message=f"No API endpoint {request.path!r}.")
