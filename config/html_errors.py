"""Domain errors as HTML, once, for every page (the API maps them to JSON in config/api.py).

The middleware turns an error a view did not handle into a styled page with the way back (403, 404, 409,
422...) or, for an htmx request, a short text answer the page shows as a notice. `form_call` runs one service
call for a form view and puts each validation message beside its field, so views never catch DomainError.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

from config.errors import Conflict, DomainError, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)
ResultT = TypeVar("ResultT")
STALE_REVISION = "stale_revision"

TITLES = {
    400: "That request could not be understood",
    401: "Please log in",
    403: "You may not open this page",
    404: "Not found",
    409: "That conflicts with a change made meanwhile",
    413: "That is too large",
    422: "That input is not valid",
    429: "Too many requests",
    500: "Something went wrong on our side",
}
HTMX_MESSAGE_HEADER = "X-Decorum-Message"


def error_response(request: HttpRequest, *, status: int, message: str, title: str | None = None) -> HttpResponse:
    """A styled error page (or, for htmx, the message as plain text with a header the page script shows)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        # Header values must be Latin-1 and one line; the body keeps the full text.
        response[HTMX_MESSAGE_HEADER] = re.sub(r"[\r\n]+", " ", message).encode("ascii", "replace").decode()[:500]
        return response
    context = {"status": status, "title": title or TITLES.get(status, "Error"), "message": message}
    return HttpResponse(render_to_string("errors/error.html", context, request=request), status=status)


class DomainErrorPageMiddleware:
    """Renders DomainError, PermissionDenied and Http404 raised by HTML views (not the API's own routes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, DomainError):
            return error_response(request, status=exception.status, message=exception.message)
        if isinstance(exception, DjangoPermissionDenied):
            return error_response(request, status=403, message=str(exception) or "You do not have access to this.")
        if isinstance(exception, Http404):
            return error_response(request, status=404, message=str(exception) or "There is nothing at this address.")
        return None


def _field_for(form: forms.BaseForm, path: str) -> str | None:
    """The form field a validation path belongs to: `tags[0]` -> tags, `parameters[1].name` -> parameters."""
    head = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    return head if head in form.fields else None


def form_errors_add(form: forms.BaseForm, error: DomainError) -> None:
    """Each message of `error` beside its field (or above the form when no field matches)."""
    details = error.details if isinstance(error.details, list) else []
    placed = False
    for detail in details:
        if not isinstance(detail, dict):
            continue
        path, message = str(detail.get("path", "")), str(detail.get("message", ""))
        field = _field_for(form, path)
        if field is not None:
            if field not in form.errors or message not in form.errors[field]:
                form.add_error(field, message)
            placed = True
        elif message:
            form.add_error(None, f"{path}: {message}" if path else message)
            placed = True
    if not placed or (isinstance(error, Conflict) and not isinstance(error, ValidationFailed)):
        if error.message not in form.non_field_errors():
            form.add_error(None, error.message)


def form_call(form: forms.BaseForm, call: Callable[[], ResultT]) -> ResultT | None:
    """Run one service call for a bound, valid form. Validation errors and conflicts land on the form (the
    view re-renders it with 422/409) and None is returned; a stale revision also sets `form.stale` to the
    current values. Permission and not-found errors propagate to the error page."""
    try:
        return call()
    except PermissionDenied:
        raise
    except (ValidationFailed, Conflict) as error:
        form_errors_add(form, error)
        form.error_status = 409 if isinstance(error, Conflict) else 422  # type: ignore[attr-defined]
        if error.code == STALE_REVISION and isinstance(error.details, dict):
            current = error.details.get("current") or {}
            form.stale = current  # type: ignore[attr-defined]
            if "revision" in form.fields and hasattr(form.data, "copy") and current.get("revision"):
                # Saving this form again now overwrites the other version knowingly (it is shown beside it).
                data = form.data.copy()
                data["revision"] = str(current["revision"])
                form.data = data
        return None


def form_status(form: forms.BaseForm) -> int:
    """The status to re-render a refused form with: 409 for a conflict, else 422."""
    return int(getattr(form, "error_status", 422))


def messages_of(error: Any) -> str:
    return getattr(error, "message", str(error))


def call_refusal(call: Callable[[], ResultT]) -> tuple[ResultT | None, str]:
    """Run an action whose refusal the page shows inline (a notice beside the chat composer, a flash message):
    (result, "") when it succeeded, (None, message) when refused. Not-found and permission errors still go to
    the error page."""
    try:
        return call(), ""
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return None, error.message
