"""The studio's canned response pages: the list (search, pages, inline create), one response with the fields its
template uses and a preview, editing and deleting it, and the live preview of a template with sample values."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from agents.models import Agent
from behavior.forms.canned_responses import (
    CannedResponseForm,
    PreviewForm,
    field_kind_choices,
    samples_from,
    template_check,
)
from behavior.models import CannedResponse, ContextVariable
from behavior.selectors import canned_response_get, canned_response_list
from behavior.services.canned_responses import canned_response_create, canned_response_delete, canned_response_update
from behavior.services.lint import entity_lint
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

RESPONSES_PER_PAGE = 50
CHANGED_EVENT = "canned-responses-changed"


def _response(agent: Agent, response_id: int) -> CannedResponse:
    return canned_response_get(response_id, agent_id=agent.pk)


def _form_context(request: HtmxHttpRequest, agent: Agent, form: CannedResponseForm) -> dict[str, Any]:
    """What the form partial needs: its field rows, the kinds, the template check and preview."""
    rows = form.field_rows()
    samples = samples_from(request.POST) if request.method == "POST" else {}
    return {
        "agent": agent,
        "form": form,
        "field_rows": rows,
        "kind_choices": field_kind_choices(),
        "variable_names": list(ContextVariable.objects.filter(agent=agent).values_list("name", flat=True)),
        "check": template_check(agent, form.template_text(), rows, samples),
    }


@require_GET
@studio_view
def canned_response_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(canned_response_list(agent_id=agent.pk, q=query or None), RESPONSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        **_form_context(request, agent, CannedResponseForm(agent=agent)),
        "family": "canned_responses",
        "page": page,
        "responses": page.object_list,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "canned": None,
    }
    template = (
        "studio/canned_responses/list.html#response-table" if request.htmx else "studio/canned_responses/list.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def canned_response_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = CannedResponseForm(request.POST or None, agent=agent)
    if request.method == "POST" and form.is_valid():
        created = form_call(form, lambda: canned_response_create(agent=agent, data=form.service_data(), actor=actor))
        if created is not None:
            if request.htmx:
                context = {**_form_context(request, agent, CannedResponseForm(agent=agent)), "created": created}
                context["check"] = template_check(agent, "", [])
                response = render(request, "studio/canned_responses/form.html#response-form", context)
                return trigger_client_event(response, CHANGED_EVENT)
            messages.success(request, f"Canned response {created.key} added.")
            return redirect("studio:canned-response-detail", agent_id=agent.pk, canned_response_id=created.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {**_form_context(request, agent, form), "family": "canned_responses", "canned": None}
    template = (
        "studio/canned_responses/form.html#response-form" if request.htmx else "studio/canned_responses/form.html"
    )
    return render(request, template, context, status=status)


@require_GET
@studio_view
def canned_response_detail(request: HtmxHttpRequest, agent_id: int, canned_response_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    canned = _response(agent, canned_response_id)
    form = CannedResponseForm(agent=agent, initial=CannedResponseForm.initial_for(canned))
    context = {
        **_form_context(request, agent, form),
        "family": "canned_responses",
        "canned": canned,
        "findings": entity_lint(agent, entity="canned_response", ref=canned.key),
    }
    return render(request, "studio/canned_responses/detail.html", context)


@require_http_methods(["GET", "POST"])
@studio_view
def canned_response_update_view(request: HtmxHttpRequest, agent_id: int, canned_response_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    canned = _response(agent, canned_response_id)
    form = CannedResponseForm(request.POST or None, agent=agent, initial=CannedResponseForm.initial_for(canned))
    saved = None
    if request.method == "POST" and form.is_valid():
        saved = form_call(
            form,
            lambda: canned_response_update(
                canned, data=form.service_data(), actor=actor, revision=form.expected_revision()
            ),
        )
        if saved is not None:
            if not request.htmx:
                messages.success(request, f"Canned response {saved.key} saved.")
                return redirect("studio:canned-response-detail", agent_id=agent.pk, canned_response_id=canned.pk)
            canned = _response(agent, canned_response_id)
            form = CannedResponseForm(agent=agent, initial=CannedResponseForm.initial_for(canned))
    status = form_status(form) if request.method == "POST" and saved is None else 200
    context = {**_form_context(request, agent, form), "family": "canned_responses", "canned": canned, "saved": saved}
    template = (
        "studio/canned_responses/form.html#response-form" if request.htmx else "studio/canned_responses/form.html"
    )
    response = render(request, template, context, status=status)
    return trigger_client_event(response, CHANGED_EVENT) if saved is not None else response


@require_POST
@studio_view
def canned_response_delete_view(request: HtmxHttpRequest, agent_id: int, canned_response_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    canned = _response(agent, canned_response_id)
    key = canned.key
    canned_response_delete(canned, actor=actor)
    if request.htmx:
        return trigger_client_event(HttpResponse(""), CHANGED_EVENT)
    messages.success(request, f"Canned response {key} deleted.")
    return redirect("studio:canned-response-list", agent_id=agent.pk)


@require_http_methods(["GET", "POST"])
@studio_view
def canned_response_preview(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """The template rendered with sample values and what is unknown in it. Changes nothing, so everyone who reads
    the agent may preview; htmx gets the preview fragment (and the check beside the template field, out of band),
    a plain form post gets a page."""
    agent = studio_agent(request, agent_id)
    form = PreviewForm(request.POST or None)
    template_text, rows = "", []
    if form.is_bound and form.is_valid():
        template_text, rows = form.cleaned_data["template"], form.cleaned_data["fields"]
    check = template_check(agent, template_text, rows, samples_from(request.POST) if form.is_bound else {})
    context = {
        "agent": agent,
        "family": "canned_responses",
        "form": form,
        "check": check,
        "field_rows": rows,
        "editable_template": True,
    }
    template = (
        "studio/canned_responses/preview.html#preview-answer"
        if request.htmx
        else "studio/canned_responses/preview.html"
    )
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(request, template, context, status=status)
