"""The studio's glossary pages: the terms of an agent (search, pages, inline create), one term with its lint
findings, editing it, deleting it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from agents.models import Agent
from behavior.forms.glossary import GlossaryTermForm
from behavior.models import GlossaryTerm
from behavior.selectors import glossary_term_get, glossary_term_list
from behavior.services.glossary import glossary_term_create, glossary_term_delete, glossary_term_update
from behavior.services.lint import entity_lint
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

TERMS_PER_PAGE = 50
CHANGED_EVENT = "glossary-changed"


def _term(agent: Agent, term_id: int) -> GlossaryTerm:
    return glossary_term_get(term_id, agent_id=agent.pk)


@require_GET
@studio_view
def glossary_list(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(glossary_term_list(agent_id=agent.pk, q=query or None), TERMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "agent": agent,
        "family": "glossary",
        "page": page,
        "terms": page.object_list,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "form": GlossaryTermForm(),
    }
    template = "studio/glossary/list.html#term-table" if request.htmx else "studio/glossary/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def glossary_create(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = GlossaryTermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        term = form_call(form, lambda: glossary_term_create(agent=agent, data=form.service_data(), actor=actor))
        if term is not None:
            if request.htmx:
                context = {"agent": agent, "form": GlossaryTermForm(), "created": term}
                response = render(request, "studio/glossary/list.html#term-create", context)
                return trigger_client_event(response, CHANGED_EVENT)
            messages.success(request, f"Glossary term {term.name} added.")
            return redirect("studio:glossary-detail", agent_id=agent.pk, term_id=term.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {"agent": agent, "family": "glossary", "form": form, "term": None}
    template = "studio/glossary/list.html#term-create" if request.htmx else "studio/glossary/form.html"
    return render(request, template, context, status=status)


@require_GET
@studio_view
def glossary_detail(request: HtmxHttpRequest, agent_id: int, term_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    term = _term(agent, term_id)
    context = {
        "agent": agent,
        "family": "glossary",
        "term": term,
        "form": GlossaryTermForm(initial=GlossaryTermForm.initial_for(term)),
        "findings": entity_lint(agent, entity="glossary_term", ref=term.name),
    }
    return render(request, "studio/glossary/detail.html", context)


@require_http_methods(["GET", "POST"])
@studio_view
def glossary_update(request: HtmxHttpRequest, agent_id: int, term_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    term = _term(agent, term_id)
    form = GlossaryTermForm(request.POST or None, initial=GlossaryTermForm.initial_for(term))
    saved = None
    if request.method == "POST" and form.is_valid():
        saved = form_call(
            form,
            lambda: glossary_term_update(
                term, data=form.service_data(), actor=actor, revision=form.expected_revision()
            ),
        )
        if saved is not None:
            if not request.htmx:
                messages.success(request, f"Glossary term {saved.name} saved.")
                return redirect("studio:glossary-detail", agent_id=agent.pk, term_id=term.pk)
            form = GlossaryTermForm(initial=GlossaryTermForm.initial_for(_term(agent, term_id)))
    status = form_status(form) if request.method == "POST" and saved is None else 200
    context = {"agent": agent, "family": "glossary", "form": form, "term": term, "saved": saved}
    template = "studio/glossary/form.html#term-form" if request.htmx else "studio/glossary/form.html"
    response = render(request, template, context, status=status)
    return trigger_client_event(response, CHANGED_EVENT) if saved is not None else response


@require_POST
@studio_view
def glossary_delete(request: HtmxHttpRequest, agent_id: int, term_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    term = _term(agent, term_id)
    name = term.name
    glossary_term_delete(term, actor=actor)
    if request.htmx:
        return trigger_client_event(HttpResponse(""), CHANGED_EVENT)
    messages.success(request, f"Glossary term {name} deleted.")
    return redirect("studio:glossary-list", agent_id=agent.pk)
