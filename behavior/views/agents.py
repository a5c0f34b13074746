"""The studio's agent pages: the list, creating an agent, its overview (persona, model, counts, draft vs
published, recent versions and changes, lint summary, quick links), editing its settings, deleting it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.permissions import Role, require_role
from agents.selectors import llm_status
from agents.services import agent_create, agent_delete, agent_update
from behavior.forms.agents import AgentForm
from behavior.selectors import (
    agent_behavior_counts,
    agent_draft_changes,
    agent_list_with_counts,
    agent_recent_changes,
    version_list,
)
from behavior.services.lint import agent_lint_summary
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

AGENTS_PER_PAGE = 50


@require_GET
@studio_view
def agent_list(request: HtmxHttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(agent_list_with_counts(q=query or None), AGENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "agents": page.object_list, "q": query, "query": urlencode({"q": query}) if query else ""}
    template = "studio/agents/list.html#agent-table" if request.htmx else "studio/agents/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def agent_create_view(request: HtmxHttpRequest) -> HttpResponse:
    actor = require_editor(request)
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        agent = form_call(form, lambda: agent_create(data=form.service_data(), actor=actor))
        if agent is not None:
            messages.success(request, f"Agent {agent.name} created. Add its first guideline.")
            return redirect("studio:agent-detail", agent_id=agent.pk)
    status = form_status(form) if request.method == "POST" else 200
    return render(request, "studio/agents/form.html", {"form": form, "agent": None}, status=status)


@require_GET
@studio_view
def agent_detail(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    context = {
        "agent": agent,
        "family": "overview",
        "counts": agent_behavior_counts(agent),
        "changes": agent_draft_changes(agent),
        "versions": list(version_list(agent).defer("document")[:5]),
        "recent": agent_recent_changes(agent),
        "lint": agent_lint_summary(agent),
        "llm": llm_status(agent),
    }
    return render(request, "studio/agents/detail.html", context)


@require_http_methods(["GET", "POST"])
@studio_view
def agent_update_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    initial = {**{name: getattr(agent, name) for name in AgentForm.base_fields if hasattr(agent, name)}}
    initial["tags"] = [tag.name for tag in agent.tags.all()]
    form = AgentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = form_call(
            form,
            lambda: agent_update(agent, data=form.service_data(), actor=actor, revision=form.expected_revision()),
        )
        if updated is not None:
            messages.success(request, "Agent settings saved.")
            return redirect("studio:agent-detail", agent_id=agent.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {"form": form, "agent": agent, "family": "settings"}
    return render(request, "studio/agents/form.html", context, status=status)


@require_POST
@studio_view
def agent_delete_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Delete an agent with its whole behavior model, versions and sessions (admins only)."""
    require_role(request.user, Role.ADMIN)
    agent = studio_agent(request, agent_id)
    name = agent.name
    agent_delete(agent, actor=require_editor(request))
    messages.success(request, f"Agent {name} and everything it held were deleted.")
    return redirect("studio:agent-list")
