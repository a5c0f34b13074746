"""The studio's tag pages, seen from one agent: the tags it uses with how often (or every tag), adding a tag,
renaming one and deleting one. Tags are global labels shared by every agent, so a rename or delete says so."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from behavior.forms.tags import TagForm
from behavior.selectors import tag_get
from behavior.selectors.tags import tag_usage_list
from behavior.services.lint import entity_lint
from behavior.services.tags import tag_create, tag_delete, tag_update
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

TAGS_PER_PAGE = 100
CHANGED_EVENT = "tags-changed"


@require_GET
@studio_view
def tag_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    show_all = request.GET.get("show") == "all"
    tags = tag_usage_list(agent_id=agent.pk, q=query or None, used_only=not show_all)
    page = Paginator(tags, TAGS_PER_PAGE).get_page(request.GET.get("page"))
    filters = {key: value for key, value in (("q", query), ("show", "all" if show_all else "")) if value}
    context = {
        "agent": agent,
        "family": "tags",
        "page": page,
        "tags": page.object_list,
        "q": query,
        "show_all": show_all,
        "query": urlencode(filters),
        "form": TagForm(),
    }
    template = "studio/tags/list.html#tag-table" if request.htmx else "studio/tags/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def tag_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tag = form_call(form, lambda: tag_create(data=form.service_data(), actor=actor))
        if tag is not None:
            if request.htmx:
                response = render(
                    request, "studio/tags/list.html#tag-create", {"agent": agent, "form": TagForm(), "created": tag}
                )
                return trigger_client_event(response, CHANGED_EVENT)
            messages.success(request, f"Tag {tag.name} added. Tag guidelines, terms or customers with it.")
            return redirect(reverse("studio:tag-list", args=[agent.pk]) + "?show=all")
    status = form_status(form) if request.method == "POST" else 200
    context = {"agent": agent, "family": "tags", "form": form, "tag": None}
    template = "studio/tags/list.html#tag-create" if request.htmx else "studio/tags/form.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@studio_view
def tag_update_view(request: HtmxHttpRequest, agent_id: int, tag_id: int) -> HttpResponse:
    """Rename a tag (for every agent). The page shows what the agent tags with it and its lint findings."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    tag = tag_get(tag_id)
    form = TagForm(request.POST or None, initial={"name": tag.name})
    renamed = None
    if request.method == "POST" and form.is_valid():
        renamed = form_call(form, lambda: tag_update(tag, data=form.service_data(), actor=actor))
        if renamed is not None:
            if not request.htmx:
                messages.success(request, f"Tag renamed to {renamed.name} for every agent.")
                return redirect("studio:tag-list", agent_id=agent.pk)
            form = TagForm(initial={"name": renamed.name})
    status = form_status(form) if request.method == "POST" and renamed is None else 200
    usage = tag_usage_list(agent_id=agent.pk, used_only=False).filter(pk=tag.pk).first()
    context = {
        "agent": agent,
        "family": "tags",
        "form": form,
        "tag": tag,
        "usage": usage,
        "findings": entity_lint(agent, entity="tag", ref=tag.name),
        "renamed": renamed,
    }
    template = "studio/tags/form.html#tag-form" if request.htmx else "studio/tags/form.html"
    response = render(request, template, context, status=status)
    return trigger_client_event(response, CHANGED_EVENT) if renamed is not None else response


@require_POST
@studio_view
def tag_delete_view(request: HtmxHttpRequest, agent_id: int, tag_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    tag = tag_get(tag_id)
    name = tag.name
    tag_delete(tag, actor=actor)
    if request.htmx:
        return trigger_client_event(HttpResponse(""), CHANGED_EVENT)
    messages.success(request, f"Tag {name} deleted from every agent.")
    return redirect("studio:tag-list", agent_id=agent.pk)
