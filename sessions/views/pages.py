"""Sandbox pages: the home redirect, the sandbox (agent, version, test customer, past sessions), a session's
chat, one event as a fragment, and the per-agent flags list."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from agents.models import Agent
from agents.permissions import Role, user_has_role
from behavior.models import BehaviorVersion
from sessions.models import Customer, Session, SessionMode
from sessions.selectors import (
    event_shown_in_chat,
    flags_for_agent,
    sandbox_allowed,
    sandbox_customers,
    sandbox_sessions,
    session_chat_events,
    session_event,
    session_last_offset,
    session_last_status,
    sessions_visible_to,
)
from sessions.views.access import HtmxHttpRequest, sandbox_role_required, session_or_404
from sessions.views.forms import CustomerForm, SessionStartForm

SESSIONS_PER_PAGE = 20
FLAGS_PER_PAGE = 50


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Testers and admins go to the sandbox; operators see the sessions waiting for a human."""
    if sandbox_allowed(request.user):
        return redirect("sandbox:home")
    operator = user_has_role(request.user, Role.OPERATOR)
    waiting = (
        sessions_visible_to(request.user).filter(mode=SessionMode.HUMAN).select_related("agent", "customer")[:100]
        if operator
        else []
    )
    return render(
        request, "sessions/home.html", {"operator": operator, "waiting": waiting}, status=200 if operator else 403
    )


@require_GET
@login_required
@sandbox_role_required
def sandbox_home(request: HtmxHttpRequest) -> HttpResponse:
    agents = list(Agent.objects.order_by("name"))
    agent = _selected_agent(request, agents)
    if request.htmx and request.htmx.target == "session-list":
        return render(request, "sessions/sandbox.html#session-list", _session_list_context(request, agent))
    customers = sandbox_customers()
    selected_customer = _int(request.GET.get("customer"))
    context = {
        **sandbox_context(request, agents=agents, agent=agent, customers=customers),
        "start_form": SessionStartForm(
            customers=Customer.objects.filter(pk__in=[c.pk for c in customers]),
            initial={"agent": agent, "customer": selected_customer, "version": "draft"},
        ),
        "customer_form": CustomerForm(agent=agent) if agent is not None else None,
        "selected_customer": selected_customer,
    }
    return render(request, "sessions/sandbox.html", context)


def sandbox_context(
    request: HtmxHttpRequest, *, agents: list[Agent], agent: Agent | None, customers: list[Customer]
) -> dict[str, Any]:
    """What the sandbox page needs besides its two forms (shared with the POST views that re-render it)."""
    versions = list(BehaviorVersion.objects.filter(agent=agent).order_by("-number")) if agent is not None else []
    return {
        "agents": agents,
        "agent": agent,
        "versions": versions,
        "published": next((v for v in versions if agent is not None and v.pk == agent.published_version_id), None),
        "customers": customers,
        "llm": llm_status(agent),
        **_session_list_context(request, agent),
    }


@require_GET
@login_required
def session_detail(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, access = session_or_404(request, uid)
    context = session_context(request, session, access)
    if request.htmx and request.htmx.target == "session-controls":
        return render(request, "sessions/session.html#session-controls", context)
    return render(request, "sessions/session.html", context)


def session_context(request: HtmxHttpRequest, session: Session, access: Any) -> dict[str, Any]:
    visible = sessions_visible_to(request.user)
    parent = visible.filter(pk=session.parent_id).first() if session.parent_id else None
    return {
        "session": session,
        "access": access,
        "events": session_chat_events(session),
        "last_offset": session_last_offset(session),
        "status": session_last_status(session),
        "parent": parent,
        "branches": list(visible.filter(parent=session).order_by("created_at")),
        "llm": llm_status(session.agent),
        "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        "human_mode": session.mode == SessionMode.HUMAN,
    }


@require_GET
@login_required
def session_event_fragment(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    """One event as the chat renders it (the live chat fetches each new event's fragment)."""
    session, access = session_or_404(request, uid)
    event = session_event(session, offset=offset)
    if not event_shown_in_chat(event):
        return HttpResponse("")
    context = {"session": session, "access": access, "event": event, "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS}
    return render(request, "sessions/session.html#event", context)


@require_GET
@login_required
def agent_flags(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    if not user_has_role(request.user, Role.TESTER, Role.ADMIN, Role.OPERATOR):
        raise PermissionDenied("Flags need the tester, operator or admin role.")
    agent = get_object_or_404(Agent, pk=agent_id)
    page = _page(Paginator(flags_for_agent(request.user, agent), FLAGS_PER_PAGE), request.GET.get("page"))
    return render(request, "sessions/flags.html", {"agent": agent, "page": page, "flags": page.object_list})


def llm_status(agent: Agent | None) -> dict[str, Any]:
    """Whether the agent's language model server is configured, and a message saying what to set if not."""
    try:
        from agents.llm.factory import llm_configuration_status
    except ImportError:  # the adapter layer is optional in a stripped-down install
        return {"configured": True, "message": ""}
    status = llm_configuration_status()
    profile = (agent.llm_profile if agent is not None else "") or "default"
    profiles = status.get("profiles", {})
    entry = profiles.get(profile.lower()) or profiles.get(profile)
    if entry is None:
        prefix = f"LLM_PROFILE_{profile.upper().replace('-', '_')}_"
        return {
            "configured": False,
            "message": f"The language model profile {profile!r} is not configured: set {prefix}BASE_URL",
        }
    if entry.get("configured"):
        return {"configured": True, "message": f"Language model server: {entry.get('server', '')}"}
    return {"configured": False, "message": str(entry.get("message", status.get("message", "")))}


def _session_list_context(request: HtmxHttpRequest, agent: Agent | None) -> dict[str, Any]:
    sessions = sandbox_sessions(request.user, agent=agent) if agent is not None else Session.objects.none()
    page = _page(Paginator(sessions, SESSIONS_PER_PAGE), request.GET.get("page"))
    return {"agent": agent, "session_page": page, "sessions": page.object_list}


def _selected_agent(request: HtmxHttpRequest, agents: list[Agent]) -> Agent | None:
    wanted = _int(request.GET.get("agent"))
    for agent in agents:
        if agent.pk == wanted:
            return agent
    return agents[0] if agents else None


def _page(paginator: Paginator, number: Any) -> Page:
    return paginator.get_page(number)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
