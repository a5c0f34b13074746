"""The sandbox home: choose an agent and a behavior version, create a test customer, start a session, and
the list of your past sessions (an htmx fragment when paging)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from agents.permissions import Area
from agents.selectors import agent_get, agent_list, llm_status
from behavior.selectors import version_list
from config.access import area_required
from config.html_errors import form_call
from config.htmx import HtmxHttpRequest
from sessions.models import Customer, Session, SessionSource
from sessions.selectors import sandbox_customers, sandbox_sessions, version_for_choice
from sessions.services import customer_create, session_create
from sessions.services.customers import sandbox_customer_for
from sessions.views.forms import CustomerForm, SessionStartForm

SESSIONS_PER_PAGE = 20


@require_GET
@login_required
@area_required(Area.SANDBOX)
def sandbox_home(request: HtmxHttpRequest) -> HttpResponse:
    agents = list(agent_list())
    agent = _selected_agent(agents, request.GET.get("agent"))
    if request.htmx and request.htmx.target == "session-list":
        return render(request, "sessions/sandbox.html#session-list", _session_list_context(request, agent))
    selected_customer = _int(request.GET.get("customer"))
    return _sandbox_page(
        request,
        agents=agents,
        agent=agent,
        start_initial={"agent": agent, "customer": selected_customer, "version": request.GET.get("version") or "draft"},
        selected_customer=selected_customer,
    )


@require_POST
@login_required
@area_required(Area.SANDBOX)
def sandbox_customer_create(request: HtmxHttpRequest) -> HttpResponse:
    agents = list(agent_list())
    agent = _selected_agent(agents, request.POST.get("agent"), fallback=False)
    if agent is None:
        messages.error(request, "Choose an agent first.")
        return redirect("sandbox:home")
    form = CustomerForm(request.POST, agent=agent)
    if form.is_valid():
        customer = form_call(
            form,
            lambda: customer_create(
                name=form.cleaned_data["name"],
                tags=form.tag_names(),
                agent=agent,
                variable_values=form.variable_values(),
            ),
        )
        if customer is not None:
            messages.success(request, f"Test customer {customer} created.")
            return redirect(reverse("sandbox:home") + "?" + urlencode({"agent": agent.pk, "customer": customer.pk}))
    return _sandbox_page(request, agents=agents, agent=agent, customer_form=form, status=422)


@require_POST
@login_required
@area_required(Area.SANDBOX)
def sandbox_session_start(request: HtmxHttpRequest) -> HttpResponse:
    agents = list(agent_list())
    form = SessionStartForm(request.POST, customers=_test_customers())
    if form.is_valid():
        agent: Agent = form.cleaned_data["agent"]
        session = form_call(
            form,
            lambda: session_create(
                agent=agent,
                customer=form.cleaned_data["customer"],
                source=SessionSource.SANDBOX,
                created_by=request.user,
                version=version_for_choice(agent, form.cleaned_data["version"]),
            ),
        )
        if session is not None:
            if request.POST.get("return") == "panel":
                return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + "?panel=1")
            return redirect("sandbox:session", uid=session.uid)
    chosen = form.cleaned_data.get("agent") if hasattr(form, "cleaned_data") else None
    return _sandbox_page(request, agents=agents, agent=chosen, start_form=form, status=422)


@require_POST
@login_required
@area_required(Area.SANDBOX)
def sandbox_try(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """ "Try in sandbox" from a studio page: a draft session with the user's own test customer (created the first
    time), opened in the studio's side panel or, without JavaScript, as a page."""
    agent = agent_get(agent_id)
    session = session_create(
        agent=agent,
        customer=sandbox_customer_for(request.user),
        source=SessionSource.SANDBOX,
        created_by=request.user,
        version=None,
    )
    suffix = "?panel=1" if request.POST.get("return") == "panel" else ""
    return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + suffix)


def _sandbox_page(
    request: HtmxHttpRequest,
    *,
    agents: list[Agent],
    agent: Agent | None,
    start_form: SessionStartForm | None = None,
    start_initial: dict[str, Any] | None = None,
    customer_form: CustomerForm | None = None,
    selected_customer: int | None = None,
    status: int = 200,
) -> HttpResponse:
    agent = agent or (agents[0] if agents else None)
    customers = sandbox_customers()
    versions = list(version_list(agent)) if agent is not None else []
    context = {
        "agents": agents,
        "agent": agent,
        "versions": versions,
        "published": next((v for v in versions if agent is not None and v.pk == agent.published_version_id), None),
        "customers": customers,
        "llm": llm_status(agent),
        **_session_list_context(request, agent),
        "start_form": start_form
        or SessionStartForm(customers=_test_customers(), initial=start_initial or {"agent": agent}),
        "customer_form": customer_form or (CustomerForm(agent=agent) if agent is not None else None),
        "selected_customer": selected_customer,
    }
    return render(request, "sessions/sandbox.html", context, status=status)


def _test_customers() -> Any:
    return Customer.objects.filter(pk__in=[customer.pk for customer in sandbox_customers()])


def _session_list_context(request: HtmxHttpRequest, agent: Agent | None) -> dict[str, Any]:
    sessions = sandbox_sessions(request.user, agent=agent) if agent is not None else Session.objects.none()
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {"agent": agent, "session_page": page, "sessions": page.object_list}


def _selected_agent(agents: list[Agent], wanted: Any, *, fallback: bool = True) -> Agent | None:
    wanted_id = _int(wanted)
    for agent in agents:
        if agent.pk == wanted_id:
            return agent
    return agents[0] if agents and fallback else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
