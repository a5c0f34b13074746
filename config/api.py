"""The one NinjaAPI. Each app contributes one router; domain errors are mapped to JSON here, once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from config.errors import DomainError

api = NinjaAPI(
    title="Decorum API",
    version="1.0.0",
    description="Behavior modeling for customer-facing LLM agents. Authenticate with `Authorization: Bearer <api key>`.",
    urls_namespace="api",
)


def error_response(request: HttpRequest, *, status: int, code: str, message: str, details: object = None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return error_response(request, status=error.status, code=error.code, message=error.message, details=error.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    details = [
        {"path": ".".join(str(part) for part in item.get("loc", ()) if part not in {"body", "payload"}), "message": item.get("msg", "")}
        for item in error.errors
    ]
    return error_response(request, status=422, code="validation_failed", message="The request is not valid.", details=details)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return error_response(request, status=401, code="unauthorized", message="A valid API key is required (Authorization: Bearer <key>).")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return error_response(request, status=error.status_code, code="http_error", message=str(error))
