"""Sandbox POST views: create a test customer, start a session, post as the customer or as the human agent,
switch the session's mode, branch from an edited message, regenerate a reply, flag a message."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents.models import Agent
from config.errors import DomainError
from sessions.models import Customer, Session
from sessions.selectors import sandbox_customers, session_event, version_for_choice
from sessions.services.messages import customer_message_post, operator_message_post, session_mode_set
from sessions.services.sandbox import (
    flag_create,
    sandbox_customer_create,
    sandbox_session_start,
    session_branch,
    session_regenerate,
)
from sessions.views.access import HtmxHttpRequest, sandbox_role_required, session_or_404
from sessions.views.forms import CustomerForm, FlagForm, MessageForm, ModeForm, SessionStartForm
from sessions.views.pages import sandbox_context


@require_POST
@login_required
@sandbox_role_required
def customer_create(request: HtmxHttpRequest) -> HttpResponse:
    agent_id = _int(request.POST.get("agent"))
    agent = Agent.objects.filter(pk=agent_id).first() if agent_id is not None else None
    if agent is None:
        messages.error(request, "Choose an agent first.")
        return redirect("sandbox:home")
    form = CustomerForm(request.POST, agent=agent)
    if form.is_valid():
        try:
            customer = sandbox_customer_create(
                agent=agent,
                name=form.cleaned_data["name"],
                tags=form.tag_names(),
                variable_values=form.variable_values(),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Test customer {customer} created.")
            return redirect(_sandbox_url(agent=agent.pk, customer=customer.pk))
    return _sandbox_page(request, agent=agent, customer_form=form, status=422)


@require_POST
@login_required
@sandbox_role_required
def session_start(request: HtmxHttpRequest) -> HttpResponse:
    customers = sandbox_customers()
    form = SessionStartForm(request.POST, customers=Customer.objects.filter(pk__in=[c.pk for c in customers]))
    if form.is_valid():
        agent: Agent = form.cleaned_data["agent"]
        try:
            version = version_for_choice(agent, form.cleaned_data["version"])
            session = sandbox_session_start(
                agent=agent, customer=form.cleaned_data["customer"], version=version, user=request.user
            )
        except DomainError as error:
            form.add_error("version", error.message)
        else:
            return redirect("sandbox:session", uid=session.uid)
    chosen = form.cleaned_data.get("agent") if hasattr(form, "cleaned_data") else None
    return _sandbox_page(request, agent=chosen, start_form=form, status=422)


@require_POST
@login_required
def message_post(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    """Post as the customer (the page sends over the websocket when it can; this is the fallback)."""
    session, _ = session_or_404(request, uid, need="chat")
    return _post_text(request, session, lambda text: customer_message_post(session, text=text))


@require_POST
@login_required
def operator_message(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_or_404(request, uid, need="operate")
    return _post_text(request, session, lambda text: operator_message_post(session, text=text, user=request.user))


@require_POST
@login_required
def mode_set(request: HtmxHttpRequest, uid: str) -> HttpResponse:
    session, _ = session_or_404(request, uid, need="operate")
    form = ModeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown mode.")
    else:
        try:
            session_mode_set(session, mode=form.cleaned_data["mode"], user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            human = form.cleaned_data["mode"] == "human"
            messages.success(
                request, "You took over: the agent stays silent." if human else "Handed back to the agent."
            )
    return redirect("sandbox:session", uid=session.uid)


@require_POST
@login_required
def branch(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    """Edit the customer message at `offset`: a new session from that point, the original intact."""
    session, _ = session_or_404(request, uid, need="chat")
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("sandbox:session", uid=session.uid)
    try:
        new_session = session_branch(session, offset=offset, text=form.cleaned_data["text"], user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sandbox:session", uid=session.uid)
    messages.success(request, f"Branched from message #{offset}; the original session is unchanged.")
    return _redirect(request, reverse("sandbox:session", kwargs={"uid": new_session.uid}))


@require_POST
@login_required
def regenerate(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    session, _ = session_or_404(request, uid, need="chat")
    try:
        new_session = session_regenerate(session, offset=offset, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sandbox:session", uid=session.uid)
    messages.success(request, f"Regenerating reply #{offset} in a new branch; the original session is unchanged.")
    return _redirect(request, reverse("sandbox:session", kwargs={"uid": new_session.uid}))


@require_POST
@login_required
def flag(request: HtmxHttpRequest, uid: str, offset: int) -> HttpResponse:
    session, access = session_or_404(request, uid, need="flag")
    form = FlagForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _form_error(form)
    else:
        try:
            flag_create(session, offset=offset, reason=form.cleaned_data["reason"], user=request.user)
        except DomainError as domain_error:
            error = domain_error.message
    if request.htmx:
        event = session_event(session, offset=offset)
        context = {
            "session": session,
            "access": access,
            "event": event,
            "flag_error": error,
            "max_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        }
        return render(request, "sessions/session.html#event", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Message #{offset} flagged.")
    return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + f"#event-{offset}")


def _post_text(request: HtmxHttpRequest, session: Session, post: Any) -> HttpResponse:
    form = MessageForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _form_error(form)
    else:
        try:
            post(form.cleaned_data["text"])
        except DomainError as domain_error:
            error = domain_error.message
    if request.htmx:
        # The message itself reaches the page over the websocket; only an error needs an answer here.
        return HttpResponse(error, status=422 if error else 204, content_type="text/plain; charset=utf-8")
    if error:
        messages.error(request, error)
    return redirect(reverse("sandbox:session", kwargs={"uid": session.uid}) + "#composer")


def _sandbox_page(
    request: HtmxHttpRequest,
    *,
    agent: Agent | None,
    start_form: SessionStartForm | None = None,
    customer_form: CustomerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    agents = list(Agent.objects.order_by("name"))
    agent = agent or (agents[0] if agents else None)
    customers = sandbox_customers()
    context = {
        **sandbox_context(request, agents=agents, agent=agent, customers=customers),
        "start_form": start_form
        or SessionStartForm(
            customers=Customer.objects.filter(pk__in=[c.pk for c in customers]), initial={"agent": agent}
        ),
        "customer_form": customer_form or (CustomerForm(agent=agent) if agent is not None else None),
        "selected_customer": None,
    }
    return render(request, "sessions/sandbox.html", context, status=status)


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _sandbox_url(**params: Any) -> str:
    return reverse("sandbox:home") + "?" + urlencode(params)


def _form_error(form: Any) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
