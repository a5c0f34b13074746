"""The studio's Widget page of one agent: enabling the website widget, its snippet, the allowed origins and
the two switches, rotating the public key or the identity secret (each after a confirmation page), and
revealing the secret. Everyone with a studio role reads the page; only editors and admins change it or see
the secret."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import PrefixNode
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.models import Agent, WidgetKey
from agents.permissions import user_may_edit_behavior
from agents.widget_keys import (
    widget_key_create,
    widget_key_for_agent,
    widget_key_rotate,
    widget_key_update,
    widget_secret_rotate,
)
from behavior.forms.widget import WidgetSettingsForm
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

WIDGET_SCRIPT = "widget/decorum.js"


def _script_url(request: HtmxHttpRequest) -> str:
    """The snippet's absolute script address on this host. The unhashed name on purpose: a snippet pasted into
    a site must keep working after the next deploy, so it cannot pin a build's hashed file name."""
    return request.build_absolute_uri(f"{PrefixNode.handle_simple('STATIC_URL')}{WIDGET_SCRIPT}")


def _key_of(agent: Agent) -> WidgetKey:
    key = widget_key_for_agent(agent)
    if key is None:
        raise Http404("This agent's website widget is not enabled yet.")
    return key


def _context(request: HtmxHttpRequest, agent: Agent, key: WidgetKey | None, **extra: Any) -> dict[str, Any]:
    may_edit = user_may_edit_behavior(request.user)
    context: dict[str, Any] = {
        "agent": agent,
        "family": "widget",
        "key": key,
        "may_edit": may_edit,
        "script_url": _script_url(request),
        "published": agent.published_version,
        "max_message_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS,
        "revealed_secret": None,
    }
    if key is not None and "form" not in extra:
        extra["form"] = WidgetSettingsForm(
            initial={
                "allowed_origins": list(key.allowed_origins or []),
                "enforce_identity": key.enforce_identity,
                "enabled": key.enabled,
            }
        )
    context.update(extra)
    return context


@require_GET
@studio_view
def widget_detail_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    context = _context(request, agent, widget_key_for_agent(agent))
    template = "studio/widget/detail.html#widget-page" if request.htmx else "studio/widget/detail.html"
    return render(request, template, context)


@require_POST
@studio_view
def widget_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Enable the widget: the agent's key, with no origins yet. Enabling twice just shows the page."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    if widget_key_for_agent(agent) is None:
        widget_key_create(agent=agent, actor=actor)
        messages.success(request, "Website widget enabled. Add the origins of your site, then paste the snippet.")
    return redirect("studio:widget-detail", agent_id=agent.pk)


@require_POST
@studio_view
def widget_update_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Save the allowed origins and the two switches; a refused origin is named by its line beside the field."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    key = _key_of(agent)
    form = WidgetSettingsForm(request.POST)
    if form.is_valid():
        saved = form_call(form, lambda: widget_key_update(key, **form.service_data(), actor=actor))
        if saved is not None:
            messages.success(request, "Widget settings saved.")
            return redirect("studio:widget-detail", agent_id=agent.pk)
    context = _context(request, agent, key, form=form)
    template = "studio/widget/detail.html#widget-settings" if request.htmx else "studio/widget/detail.html"
    return render(request, template, context, status=form_status(form))


@require_http_methods(["GET", "POST"])
@studio_view
def widget_key_rotate_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """GET asks for confirmation (the old snippet stops working); POST rotates the public key."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    key = _key_of(agent)
    if request.method == "POST":
        widget_key_rotate(key, actor=actor)
        messages.success(request, "New public key made. Replace the snippet on your site: the old one no longer works.")
        return redirect("studio:widget-detail", agent_id=agent.pk)
    return render(request, "studio/widget/rotate.html", {**_context(request, agent, key), "what": "key"})


@require_http_methods(["GET", "POST"])
@studio_view
def widget_secret_rotate_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """GET asks for confirmation (identities signed with the old secret are refused); POST rotates it."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    key = _key_of(agent)
    if request.method == "POST":
        widget_secret_rotate(key, actor=actor)
        messages.success(request, "New identity secret made. Sign identities with it from now on.")
        return redirect("studio:widget-detail", agent_id=agent.pk)
    return render(request, "studio/widget/rotate.html", {**_context(request, agent, key), "what": "secret"})


@require_POST
@studio_view
def widget_secret_reveal_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """The identity secret in clear, for editors and admins only; a POST so no link, prefetch or history entry
    ever shows it, and never cached."""
    agent = studio_agent(request, agent_id, edit=True)
    require_editor(request)
    key = _key_of(agent)
    context = _context(request, agent, key, revealed_secret=key.identity_secret)
    template = "studio/widget/detail.html#widget-secret" if request.htmx else "studio/widget/detail.html"
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response
