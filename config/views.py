"""Site-wide pages: the home page, which sends each role where it works, and the error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from agents.permissions import Area, user_may_edit_behavior, user_may_open
from config.html_errors import error_response


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Editors and admins go to the studio, testers to the sandbox, operators to the inbox (testers and
    operators may read the studio too, from the navigation)."""
    user = request.user
    if user_may_edit_behavior(user):
        return redirect("studio:agent-list")
    if user_may_open(user, Area.SANDBOX):
        return redirect("sandbox:home")
    if user_may_open(user, Area.INBOX):
        return redirect("inbox:list")
    return error_response(
        request,
        status=403,
        title="Your account has no role yet",
        message="Ask an administrator for the editor, tester or operator role; this page will then lead you to "
        "the studio, the sandbox or the inbox.",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, status=404, message="There is nothing at this address.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, status=403, message=str(exception or "") or "You do not have access to this.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, status=400, message="The request could not be understood.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, status=500, message="The error was logged. Try again in a moment.")
