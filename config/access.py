"""The role gate of HTML views: `@area_required(Area.SANDBOX)` after `@login_required`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

from agents.permissions import require_area

View = Callable[..., HttpResponse]


def area_required(area: str) -> Callable[[View], View]:
    """403 (a styled page, through config.html_errors) unless the user's roles open `area`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_area(request.user, area)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
