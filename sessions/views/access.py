"""Access helpers shared by the sandbox views: the role gate and the session lookup that authorizes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from sessions.models import Session
from sessions.selectors import SessionAccess, sandbox_allowed, session_for_user

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for type checking)."""

    htmx: HtmxDetails


def sandbox_role_required(view: View) -> View:
    """403 unless the user holds the tester or admin role (use after login_required)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sandbox_allowed(request.user):
            raise PermissionDenied("The sandbox needs the tester or admin role.")
        return view(request, *args, **kwargs)

    return wrapper


def session_or_404(request: HttpRequest, uid: Any, *, need: str = "view") -> tuple[Session, SessionAccess]:
    """The session for the request's user: 404 when it is not visible, 403 when visible but `need`
    ("view", "chat", "operate" or "flag") is not allowed."""
    session, access = session_for_user(request.user, uid)
    if not getattr(access, need):
        raise PermissionDenied(f"You may not {need} in this session.")
    return session, access
