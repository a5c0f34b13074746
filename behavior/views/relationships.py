"""The relationships panel of a guideline's page: add one (kind, direction, the other end found by typing),
remove one, and the typeahead of possible other ends (at most 20, JSON or datalist options for htmx)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from behavior.forms.guidelines import QUERY_MAX, RelationshipForm
from behavior.models import EndpointType, Guideline
from behavior.selectors.guidelines import guideline_get
from behavior.selectors.relationships import relationship_get, relationship_targets
from behavior.services.relationships import relationship_create, relationship_delete
from behavior.views.access import require_editor, studio_agent, studio_view
from behavior.views.guidelines import DETAIL, guideline_page_context, relationships_panel_context
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

PANEL = f"{DETAIL}#relationships"


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
    if guideline is None:
        return redirect("studio:guideline-list", agent_id=agent.pk)
    if request.htmx:
        return render(request, PANEL, relationships_panel_context(agent, guideline, may_edit=True))
    return redirect(_panel_url(agent, guideline))


@require_GET
@studio_view
def relationship_targets_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Endpoints of one type (`type`, or the form's `other_type`) whose key or name contains `q` (or the form's
    `other`): datalist options for htmx, JSON otherwise."""
    agent = studio_agent(request, agent_id)
    endpoint_type = request.GET.get("type") or request.GET.get("other_type") or EndpointType.GUIDELINE
    if endpoint_type not in EndpointType.values:
        endpoint_type = EndpointType.GUIDELINE
    query = (request.GET.get("q") or request.GET.get("other") or "").strip()[:QUERY_MAX]
    targets = relationship_targets(agent_id=agent.pk, endpoint_type=endpoint_type, q=query)
    if request.htmx:
        return render(request, "studio/guidelines/_targets.html", {"targets": targets})
    return JsonResponse({"type": endpoint_type, "q": query, "results": targets})
