"""The studio's tools pages: the agent's tools with their typed parameters and what uses each, one tool (its
description, consequence and time limit are editable), and remote tool services added by URL whose tool list
is fetched and refreshed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents.models import Agent, Tool, ToolService
from agents.permissions import user_may_edit_behavior
from agents.selectors import (
    registered_python_tool_names,
    tool_get,
    tool_list_with_usage,
    tool_service_get,
    tool_service_list,
    tool_usage,
)
from agents.services import (
    ToolServiceRefresh,
    tool_service_create,
    tool_service_delete,
    tool_service_refresh,
    tool_update,
)
from behavior.forms.tools import ToolForm, ToolServiceForm
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import call_refusal, form_call, form_status
from config.htmx import HtmxHttpRequest

TOOLS_PER_PAGE = 50


@require_GET
@studio_view
def tool_list(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(tool_list_with_usage(agent.pk, q=query or None), TOOLS_PER_PAGE).get_page(request.GET.get("page"))
    registered = registered_python_tool_names()
    context = {
        "agent": agent,
        "family": "tools",
        "page": page,
        "tools": page.object_list,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "registered": registered,
        "unused_registered": sorted(registered - set(agent.tools.values_list("name", flat=True))),
        "services": tool_service_list(agent_id=agent.pk),
        "may_edit": user_may_edit_behavior(request.user),
    }
    template = "studio/tools/list.html#tool-table" if request.htmx else "studio/tools/list.html"
    return render(request, template, context)


@require_GET
@studio_view
def tool_detail(request: HtmxHttpRequest, agent_id: int, tool_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    tool = tool_get(tool_id, agent_id=agent.pk)
    return render(request, "studio/tools/detail.html", _tool_context(request, agent, tool, form=None))


@require_http_methods(["GET", "POST"])
@studio_view
def tool_update_view(request: HtmxHttpRequest, agent_id: int, tool_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    tool = tool_get(tool_id, agent_id=agent.pk)
    initial = {name: getattr(tool, name) for name in ("description", "consequential", "timeout_seconds", "revision")}
    form = ToolForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = form_call(
            form, lambda: tool_update(tool, data=form.service_data(), actor=actor, revision=form.expected_revision())
        )
        if updated is not None:
            messages.success(request, f"Tool {updated.name} saved.")
            return redirect("studio:tool-detail", agent_id=agent.pk, tool_id=tool.pk)
    status = form_status(form) if request.method == "POST" else 200
    template = "studio/tools/detail.html#tool-form" if request.htmx else "studio/tools/detail.html"
    return render(request, template, _tool_context(request, agent, tool, form=form), status=status)


def _tool_context(request: HtmxHttpRequest, agent: Agent, tool: Tool, *, form: ToolForm | None) -> dict[str, Any]:
    return {
        "agent": agent,
        "family": "tools",
        "tool": tool,
        "form": form,
        "usage": tool_usage(tool),
        "registered": registered_python_tool_names(),
        "may_edit": user_may_edit_behavior(request.user),
    }


@require_http_methods(["GET", "POST"])
@studio_view
def tool_service_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = ToolServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service = form_call(form, lambda: tool_service_create(agent=agent, data=form.service_data(), actor=actor))
        if service is not None:
            messages.success(request, f"Tool service {service.name} added. Refresh it to list its tools.")
            url = reverse("studio:tool-service-detail", kwargs={"agent_id": agent.pk, "service_id": service.pk})
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    status = form_status(form) if request.method == "POST" else 200
    context = {"agent": agent, "family": "tools", "form": form}
    template = "studio/tools/service_form.html#service-form" if request.htmx else "studio/tools/service_form.html"
    return render(request, template, context, status=status)


@require_GET
@studio_view
def tool_service_detail(request: HtmxHttpRequest, agent_id: int, service_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    service = tool_service_get(service_id, agent_id=agent.pk)
    template = "studio/tools/service_detail.html#service-tools" if request.htmx else "studio/tools/service_detail.html"
    return render(request, template, _service_context(request, agent, service))


@require_POST
@studio_view
def tool_service_refresh_view(request: HtmxHttpRequest, agent_id: int, service_id: int) -> HttpResponse:
    """Fetch the service's tool list now; an unreachable service is reported on the page, nothing changes."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    service = tool_service_get(service_id, agent_id=agent.pk)
    result, refusal = call_refusal(lambda: tool_service_refresh(service, actor=actor))
    if not request.htmx:
        if refusal:
            messages.error(request, refusal)
        else:
            messages.success(request, _refresh_summary(result))
        return redirect("studio:tool-service-detail", agent_id=agent.pk, service_id=service.pk)
    context = {**_service_context(request, agent, service), "refresh": result, "refusal": refusal}
    return render(request, "studio/tools/service_detail.html#service-tools", context)


@require_POST
@studio_view
def tool_service_delete_view(request: HtmxHttpRequest, agent_id: int, service_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    service = tool_service_get(service_id, agent_id=agent.pk)
    name, with_tools = service.name, request.POST.get("with_tools") == "on"
    _, refusal = call_refusal(lambda: tool_service_delete(service, actor=actor, with_tools=with_tools))
    if refusal:
        messages.error(request, refusal)
        return redirect("studio:tool-service-detail", agent_id=agent.pk, service_id=service.pk)
    messages.success(request, f"Tool service {name} deleted{' with its tools' if with_tools else ''}.")
    return redirect("studio:tool-list", agent_id=agent.pk)


def _service_context(request: HtmxHttpRequest, agent: Agent, service: ToolService) -> dict[str, Any]:
    return {
        "agent": agent,
        "family": "tools",
        "service": service,
        "tools": tool_list_with_usage(service.agent_id).filter(service=service),
        "may_edit": user_may_edit_behavior(request.user),
    }


def _refresh_summary(result: ToolServiceRefresh | None) -> str:
    if result is None:
        return ""
    parts = [
        f"{len(names)} {what}"
        for names, what in (
            (result.created, "added"),
            (result.updated, "updated"),
            (result.unchanged, "unchanged"),
        )
    ]
    text = "Tools refreshed: " + ", ".join(parts) + "."
    skipped = result.skipped
    if skipped:
        text += " Skipped: " + "; ".join(f"{name} ({why})" for name, why in skipped) + "."
    if result.missing:
        text += " No longer offered by the service: " + ", ".join(result.missing) + "."
    return text
