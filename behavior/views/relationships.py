"""Relationships in the studio: the agent-wide page (every relationship, filters, search, 50 per page, add one
between any two ends, delete), the panel of a guideline's page (add one with the guideline at one end, remove
one), and the typeahead of possible ends (at most 20, JSON or datalist options for htmx).

Create and delete serve both: a form that posts `guideline` is the panel's, any other the page's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from agents.permissions import user_may_edit_behavior
from agents.selectors import tool_get
from behavior.forms.guidelines import QUERY_MAX, RelationshipForm
from behavior.forms.relationships import EndpointsRelationshipForm, RelationshipFilterForm
from behavior.models import EndpointType, Guideline
from behavior.selectors.guidelines import guideline_get
from behavior.selectors.relationships import relationship_get, relationship_search, relationship_targets
from behavior.services.audit import Actor
from behavior.services.relationships import relationship_create, relationship_delete
from behavior.views.access import require_editor, studio_agent, studio_view
from behavior.views.guidelines import DETAIL, guideline_page_context, relationships_panel_context
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

PANEL = f"{DETAIL}#relationships"
LIST = "studio/relationships/list.html"
RELATIONSHIPS_PER_PAGE = 50
TYPEAHEAD_FIELDS = ("other", "source", "target")  # the forms' field names the typeahead reads its query from


def _posted_guideline(request: HtmxHttpRequest, agent: Agent, *, required: bool = True) -> Guideline | None:
    """The guideline whose panel posted (an id of another agent is a 404)."""
    value = request.POST.get("guideline", "")
    if not value.isdigit():
        if required:
            raise Http404("Which guideline's relationships? The form names none.")
        return None
    return guideline_get(int(value), agent_id=agent.pk)


def _panel_url(agent: Agent, guideline: Guideline) -> str:
    url = reverse("studio:guideline-detail", kwargs={"agent_id": agent.pk, "guideline_id": guideline.pk})
    return f"{url}#relationships-{guideline.pk}"


@require_POST
@studio_view
def relationship_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    if "guideline" not in request.POST:
        return _page_create(request, agent, actor)
    guideline = _posted_guideline(request, agent)
    assert guideline is not None
    form = RelationshipForm(request.POST, agent=agent, guideline=guideline)
    if form.is_valid():
        created = form_call(form, lambda: relationship_create(agent=agent, data=form.service_data(), actor=actor))
        if created is not None:
            if request.htmx:
                context = relationships_panel_context(agent, guideline, may_edit=True)
                return render(request, PANEL, {**context, "added": created})
            return redirect(_panel_url(agent, guideline))
    status = form_status(form)
    if request.htmx:
        return render(
            request, PANEL, relationships_panel_context(agent, guideline, may_edit=True, form=form), status=status
        )
    context = guideline_page_context(request, agent, guideline, relationship_form=form)
    return render(request, DETAIL, context, status=status)


@require_POST
@studio_view
def relationship_delete_view(request: HtmxHttpRequest, agent_id: int, relationship_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    relationship = relationship_get(relationship_id, agent_id=agent.pk)
    guideline = _posted_guideline(request, agent, required=False)
    relationship_delete(relationship, actor=actor)
    if guideline is None:  # the agent-wide page: its results again (htmx) or the page with the same filters
        back = QueryDict(request.POST.get("back", "")[:2000])
        if request.htmx:
            return render(request, f"{LIST}#relationship-results", _list_context(request, agent, back))
        messages.success(request, f"Relationship {relationship} deleted.")
        return redirect(_list_url(agent, back))
    if request.htmx:
        return render(request, PANEL, relationships_panel_context(agent, guideline, may_edit=True))
    return redirect(_panel_url(agent, guideline))


@require_GET
@studio_view
def relationship_targets_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Endpoints of one type (`type`, or the form's `<field>_type`) whose key or name contains `q` (or the form's
    `<field>`, where `field` is other, source or target): datalist options for htmx, JSON otherwise."""
    agent = studio_agent(request, agent_id)
    field = request.GET.get("field", "other")  # which form field asks: the panel's `other`, the page's source/target
    if field not in TYPEAHEAD_FIELDS:
        field = "other"
    endpoint_type = request.GET.get("type") or request.GET.get(f"{field}_type") or EndpointType.GUIDELINE
    if endpoint_type not in EndpointType.values:
        endpoint_type = EndpointType.GUIDELINE
    query = (request.GET.get("q") or request.GET.get(field) or "").strip()[:QUERY_MAX]
    targets = relationship_targets(agent_id=agent.pk, endpoint_type=endpoint_type, q=query)
    if request.htmx:
        return render(request, "studio/guidelines/_targets.html", {"targets": targets})
    return JsonResponse({"type": endpoint_type, "q": query, "results": targets})


# ---------------------------------------------------------------- the agent-wide page


def _list_url(agent: Agent, data: QueryDict) -> str:
    """The list with the filters of `data` that still validate (and its page)."""
    active = RelationshipFilterForm(data).active()
    page = data.get("page", "")
    query = urlencode({**active, **({"page": page} if page.isdigit() else {})})
    url = reverse("studio:relationship-list", args=[agent.pk])
    return f"{url}?{query}" if query else url


def _list_context(
    request: HtmxHttpRequest, agent: Agent, data: QueryDict, *, form: EndpointsRelationshipForm | None = None
) -> dict[str, Any]:
    filters = RelationshipFilterForm(data)
    active = filters.active()
    tool = tool_get(active["tool"], agent_id=agent.pk) if "tool" in active else None
    paginator = Paginator(relationship_search(agent_id=agent.pk, **active), RELATIONSHIPS_PER_PAGE)
    page = paginator.get_page(data.get("page"))
    may_edit = user_may_edit_behavior(request.user)
    if form is None and may_edit:
        initial = {"source_type": EndpointType.TOOL, "source": tool.name} if tool is not None else None
        form = EndpointsRelationshipForm(agent=agent, initial=initial)
    query = urlencode(active)
    return {
        "agent": agent,
        "family": "relationships",
        "page": page,
        "relationships": page.object_list,
        "filters": filters,
        "active": active,
        "filtered": bool(active),
        "query": query,
        "back": urlencode({**active, "page": page.number}),
        "filtered_tool": tool,
        "may_edit": may_edit,
        "form": form,
    }


@require_GET
@studio_view
def relationship_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    template = f"{LIST}#relationship-results" if request.htmx else LIST
    return render(request, template, _list_context(request, agent, request.GET))


def _page_create(request: HtmxHttpRequest, agent: Agent, actor: Actor) -> HttpResponse:
    """A relationship from the agent-wide page's form (any two ends)."""
    form = EndpointsRelationshipForm(request.POST, agent=agent)
    if form.is_valid():
        created = form_call(form, lambda: relationship_create(agent=agent, data=form.service_data(), actor=actor))
        if created is not None:
            if request.htmx:  # a fresh form for the next one; the results reload themselves
                fresh = EndpointsRelationshipForm(agent=agent)
                response = render(
                    request, f"{LIST}#relationship-form", {"agent": agent, "form": fresh, "added": created}
                )
                response["HX-Trigger"] = "relationships-changed"
                return response
            messages.success(request, f"Relationship {created} added.")
            return redirect("studio:relationship-list", agent_id=agent.pk)
    status = form_status(form)
    if request.htmx:
        return render(request, f"{LIST}#relationship-form", {"agent": agent, "form": form}, status=status)
    return render(request, LIST, _list_context(request, agent, QueryDict(), form=form), status=status)
