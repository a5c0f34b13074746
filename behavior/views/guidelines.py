"""The studio's guideline pages: the list (server-side search, filters, sort, 50 per page, bulk actions), a new
guideline (inline at the top of the list with htmx, a page without), a guideline's page (edit form, lint
findings, relationships, history link), editing inline in the list, the enable/disable toggle, deleting."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.models import Agent
from agents.permissions import user_may_edit_behavior
from behavior.forms.guidelines import GuidelineBulkForm, GuidelineFilterForm, GuidelineForm, RelationshipForm
from behavior.models import Guideline
from behavior.selectors.guidelines import guideline_filter_choices, guideline_get, guideline_list
from behavior.selectors.relationships import guideline_relationships
from behavior.services.guidelines import guideline_create, guideline_delete, guideline_update, guidelines_bulk_apply
from behavior.services.lint import entity_lint
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

GUIDELINES_PER_PAGE = 50
LIST = "studio/guidelines/list.html"
DETAIL = "studio/guidelines/detail.html"
NEW = "studio/guidelines/form.html"
# Sortable columns: name -> (ascending, descending) sort values.
SORT_COLUMNS = {"key": ("key", "-key"), "title": ("title", "-title"), "priority": ("-priority", "priority")}


def _list_url(agent: Agent, back: str = "") -> str:
    """The list, keeping only filters that still validate (`back` is the query string the page posted)."""
    active = GuidelineFilterForm(QueryDict(back[:2000])).active() if back else {}
    url = reverse("studio:guideline-list", args=[agent.pk])
    return f"{url}?{urlencode(active)}" if active else url


def _sort_links(active: dict[str, str]) -> dict[str, dict[str, str]]:
    """For each sortable column header: the query string that sorts by it (flipping when already sorted)."""
    current = active.get("sort", "key")
    links = {}
    for column, (first, second) in SORT_COLUMNS.items():
        target = second if current == first else first
        query = urlencode({**{name: value for name, value in active.items() if name != "sort"}, "sort": target})
        arrow = "" if current not in (first, second) else ("▼" if current.startswith("-") else "▲")
        links[column] = {"query": query, "arrow": arrow}
    return links


@require_GET
@studio_view
def guideline_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    filters = GuidelineFilterForm(request.GET)
    active = filters.active()
    paginator = Paginator(guideline_list(agent_id=agent.pk, **filters.filters()), GUIDELINES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "agent": agent,
        "family": "guidelines",
        "page": page,
        "guidelines": page.object_list,
        "filters": filters,
        "active": active,
        "filtered": any(name != "sort" for name in active),
        "query": urlencode(active),
        "sort_links": _sort_links(active),
        "choices": guideline_filter_choices(agent_id=agent.pk),
        "may_edit": user_may_edit_behavior(request.user),
    }
    template = f"{LIST}#guideline-results" if request.htmx else LIST
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def guideline_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = GuidelineForm(request.POST if request.method == "POST" else None, agent=agent)
    context: dict[str, Any] = {"agent": agent, "family": "guidelines", "form": form}
    if request.method == "POST" and form.is_valid():
        guideline = form_call(form, lambda: guideline_create(agent=agent, data=form.service_data(), actor=actor))
        if guideline is not None:
            if request.htmx:  # a fresh form for the next one; the list reloads its rows
                context.update(form=GuidelineForm(agent=agent), created=guideline)
                response = render(request, f"{NEW}#guideline-new-form", context)
                response["HX-Trigger"] = "guidelines-changed"
                return response
            messages.success(request, f"Guideline {guideline.key} created.")
            return redirect("studio:guideline-detail", agent_id=agent.pk, guideline_id=guideline.pk)
    status = form_status(form) if request.method == "POST" else 200
    template = f"{NEW}#guideline-new-form" if request.htmx else NEW
    return render(request, template, context, status=status)


def guideline_page_context(
    request: HtmxHttpRequest,
    agent: Agent,
    guideline: Guideline,
    *,
    form: GuidelineForm | None = None,
    relationship_form: RelationshipForm | None = None,
) -> dict[str, Any]:
    """What the guideline's page shows: the edit form (editors), lint findings, the relationships panel."""
    may_edit = user_may_edit_behavior(request.user)
    if form is None and may_edit:
        form = GuidelineForm(agent=agent, guideline=guideline)
    return {
        "agent": agent,
        "family": "guidelines",
        "guideline": guideline,
        "form": form,
        "may_edit": may_edit,
        "findings": entity_lint(agent, entity="guideline", ref=guideline.key),
        **relationships_panel_context(agent, guideline, may_edit=may_edit, form=relationship_form),
    }


def relationships_panel_context(
    agent: Agent, guideline: Guideline, *, may_edit: bool, form: RelationshipForm | None = None
) -> dict[str, Any]:
    if form is None and may_edit:
        form = RelationshipForm(agent=agent, guideline=guideline)
    return {
        "agent": agent,
        "guideline": guideline,
        "may_edit": may_edit,
        "relationships": guideline_relationships(guideline),
        "relationship_form": form,
    }


@require_GET
@studio_view
def guideline_detail_view(request: HtmxHttpRequest, agent_id: int, guideline_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    guideline = guideline_get(guideline_id, agent_id=agent.pk)
    if request.htmx and request.GET.get("part") == "row":  # "Cancel" of an inline edit in the list
        context = {"agent": agent, "guideline": guideline, "may_edit": user_may_edit_behavior(request.user)}
        return render(request, f"{LIST}#guideline-row", context)
    template = f"{DETAIL}#guideline-page" if request.htmx else DETAIL
    return render(request, template, guideline_page_context(request, agent, guideline))


@require_http_methods(["GET", "POST"])
@studio_view
def guideline_update_view(request: HtmxHttpRequest, agent_id: int, guideline_id: int) -> HttpResponse:
    """The edit form: on the guideline's page, or (`in=row`) as a row of the list."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    guideline = guideline_get(guideline_id, agent_id=agent.pk)
    in_row = (request.POST if request.method == "POST" else request.GET).get("in") == "row"
    form = GuidelineForm(request.POST if request.method == "POST" else None, agent=agent, guideline=guideline)
    if request.method == "POST" and form.is_valid():
        updated = form_call(
            form,
            lambda: guideline_update(
                guideline, data=form.service_data(), actor=actor, revision=form.expected_revision()
            ),
        )
        if updated is not None:
            fresh = guideline_get(updated.pk, agent_id=agent.pk)
            if request.htmx and in_row:
                context = {"agent": agent, "guideline": fresh, "may_edit": True, "saved": True}
                return render(request, f"{LIST}#guideline-row", context)
            if request.htmx:
                context = {"agent": agent, "guideline": fresh, "may_edit": True, "saved": True}
                context["form"] = GuidelineForm(agent=agent, guideline=fresh)
                return render(request, f"{DETAIL}#guideline-form", context)
            messages.success(request, f"Guideline {fresh.key} saved.")
            return redirect("studio:guideline-detail", agent_id=agent.pk, guideline_id=fresh.pk)
    status = form_status(form) if request.method == "POST" else 200
    if request.htmx:
        context = {"agent": agent, "guideline": guideline, "form": form, "may_edit": True}
        template = f"{LIST}#guideline-edit-row" if in_row else f"{DETAIL}#guideline-form"
        return render(request, template, context, status=status)
    return render(request, DETAIL, guideline_page_context(request, agent, guideline, form=form), status=status)


@require_POST
@studio_view
def guideline_toggle_view(request: HtmxHttpRequest, agent_id: int, guideline_id: int) -> HttpResponse:
    """Switch a guideline on or off (the row re-renders; without htmx, back to the list)."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    guideline = guideline_get(guideline_id, agent_id=agent.pk)
    guideline_update(guideline, data={"enabled": not guideline.enabled}, actor=actor)
    fresh = guideline_get(guideline.pk, agent_id=agent.pk)
    if request.htmx:
        context = {"agent": agent, "guideline": fresh, "may_edit": True, "saved": True}
        return render(request, f"{LIST}#guideline-row", context)
    messages.success(request, f"Guideline {fresh.key} {'enabled' if fresh.enabled else 'disabled'}.")
    if request.POST.get("from") == "detail":
        return redirect("studio:guideline-detail", agent_id=agent.pk, guideline_id=fresh.pk)
    return redirect(_list_url(agent, request.POST.get("back", "")))


@require_POST
@studio_view
def guideline_delete_view(request: HtmxHttpRequest, agent_id: int, guideline_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    guideline = guideline_get(guideline_id, agent_id=agent.pk)
    key = guideline.key
    guideline_delete(guideline, actor=actor)
    if request.htmx:  # the row's outerHTML becomes nothing
        response = HttpResponse("")
        response["HX-Trigger"] = "guidelines-changed"
        return response
    messages.success(request, f"Guideline {key} and its relationships were deleted.")
    return redirect(_list_url(agent, request.POST.get("back", "")))


@require_POST
@studio_view
def guideline_bulk_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Tag, enable, disable or delete the selected guidelines (ids of other agents are ignored)."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = GuidelineBulkForm(request.POST)
    back = request.POST.get("back", "")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_list_url(agent, back))
    operation = form.cleaned_data["operation"]
    chosen = list(
        Guideline.objects.filter(agent_id=agent.pk, pk__in=form.cleaned_data["selected"]).prefetch_related("tags")
    )
    count = guidelines_bulk_apply(chosen, operation=operation, actor=actor, tag=form.cleaned_data["tag"])
    done = {"tag": f"tagged {form.cleaned_data['tag']}", "enable": "enabled", "disable": "disabled"}
    messages.success(request, f"{count} guideline{'s' if count != 1 else ''} {done.get(operation, 'deleted')}.")
    return redirect(_list_url(agent, back))
