"""How studio views authorize: everyone with a studio role reads, editors (and admins) change; every object is
looked up within the agent the URL names, so an id of another agent is a 404 like a missing one."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from agents.models import Agent
from agents.permissions import Area, require_area, user_may_edit_behavior
from agents.selectors import agent_get
from behavior.services.audit import Actor, studio_actor
from config.errors import PermissionDenied

View = Callable[..., HttpResponse]


def studio_view(view: View) -> View:
    """Login, then the studio's role gate (editor, tester, operator or admin)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_area(request.user, Area.STUDIO)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def require_editor(request: HttpRequest) -> Actor:
    """The actor for a change, or PermissionDenied for users who may only read the behavior model."""
    if not user_may_edit_behavior(request.user):
        raise PermissionDenied(
            "Changing the behavior model needs the editor role; you can read it, and try it in the sandbox."
        )
    return studio_actor(request.user)


def studio_agent(request: HttpRequest, agent_id: int, *, edit: bool = False) -> Agent:
    """The agent the URL names (404 when missing); with `edit`, refused for users who may only read."""
    if edit:
        require_editor(request)
    return agent_get(agent_id)
