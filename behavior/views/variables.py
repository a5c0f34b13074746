"""The studio's context variable pages: the variables of an agent (search, pages, inline create), one variable
with its values (the default and one per customer tag, added, edited and removed inline), editing and deleting."""

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
from behavior.forms.variables import ContextValueCreateForm, ContextValueUpdateForm, ContextVariableForm
from behavior.models import ContextVariable, ContextVariableValue, Tag
from behavior.selectors import context_value_get, context_value_list, context_variable_get, context_variable_list
from behavior.services.lint import entity_lint
from behavior.services.variables import (
    context_value_create,
    context_value_delete,
    context_value_update,
    context_variable_create,
    context_variable_delete,
    context_variable_update,
)
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

VARIABLES_PER_PAGE = 50
CHANGED_EVENT = "variables-changed"


def _variable(agent: Agent, variable_id: int) -> ContextVariable:
    return context_variable_get(variable_id, agent_id=agent.pk)


def _values_context(variable: ContextVariable, *, create_form: ContextValueCreateForm | None = None) -> dict[str, Any]:
    values = list(context_value_list(variable))
    return {
        "variable": variable,
        "value_rows": [
            (value, ContextValueUpdateForm(initial=ContextValueUpdateForm.initial_for(value))) for value in values
        ],
        "value_form": create_form or ContextValueCreateForm(),
        "has_default": any(value.scope == "default" for value in values),
        "tag_names": list(Tag.objects.values_list("name", flat=True)[:500]),
    }


@require_GET
@studio_view
def variable_list(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    query = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(context_variable_list(agent_id=agent.pk, q=query or None), VARIABLES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "agent": agent,
        "family": "variables",
        "page": page,
        "variables": page.object_list,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "form": ContextVariableForm(agent=agent),
    }
    template = "studio/variables/list.html#variable-table" if request.htmx else "studio/variables/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def variable_create(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    form = ContextVariableForm(request.POST or None, agent=agent)
    if request.method == "POST" and form.is_valid():
        variable = form_call(form, lambda: context_variable_create(agent=agent, data=form.service_data(), actor=actor))
        if variable is not None:
            if request.htmx:
                context = {"agent": agent, "form": ContextVariableForm(agent=agent), "created": variable}
                response = render(request, "studio/variables/form.html#variable-form", context)
                return trigger_client_event(response, CHANGED_EVENT)
            messages.success(request, f"Context variable {variable.name} added. Give it a default value.")
            return redirect("studio:variable-detail", agent_id=agent.pk, variable_id=variable.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {"agent": agent, "family": "variables", "form": form, "variable": None}
    template = "studio/variables/form.html#variable-form" if request.htmx else "studio/variables/form.html"
    return render(request, template, context, status=status)


@require_GET
@studio_view
def variable_detail(request: HtmxHttpRequest, agent_id: int, variable_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    variable = _variable(agent, variable_id)
    context = {
        **_values_context(variable),
        "agent": agent,
        "family": "variables",
        "form": ContextVariableForm(agent=agent, initial=ContextVariableForm.initial_for(variable)),
        "findings": entity_lint(agent, entity="context_variable", ref=variable.name),
    }
    return render(request, "studio/variables/detail.html", context)


@require_http_methods(["GET", "POST"])
@studio_view
def variable_update(request: HtmxHttpRequest, agent_id: int, variable_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    variable = _variable(agent, variable_id)
    form = ContextVariableForm(request.POST or None, agent=agent, initial=ContextVariableForm.initial_for(variable))
    saved = None
    if request.method == "POST" and form.is_valid():
        saved = form_call(
            form,
            lambda: context_variable_update(
                variable, data=form.service_data(), actor=actor, revision=form.expected_revision()
            ),
        )
        if saved is not None:
            if not request.htmx:
                messages.success(request, f"Context variable {saved.name} saved.")
                return redirect("studio:variable-detail", agent_id=agent.pk, variable_id=variable.pk)
            variable = _variable(agent, variable_id)
            form = ContextVariableForm(agent=agent, initial=ContextVariableForm.initial_for(variable))
    status = form_status(form) if request.method == "POST" and saved is None else 200
    context = {"agent": agent, "family": "variables", "form": form, "variable": variable, "saved": saved}
    template = "studio/variables/form.html#variable-form" if request.htmx else "studio/variables/form.html"
    response = render(request, template, context, status=status)
    return trigger_client_event(response, CHANGED_EVENT) if saved is not None else response


@require_POST
@studio_view
def variable_delete(request: HtmxHttpRequest, agent_id: int, variable_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    variable = _variable(agent, variable_id)
    name = variable.name
    context_variable_delete(variable, actor=actor)
    if request.htmx:
        return trigger_client_event(HttpResponse(""), CHANGED_EVENT)
    messages.success(request, f"Context variable {name} and its values deleted.")
    return redirect("studio:variable-list", agent_id=agent.pk)


def _value_page(
    request: HtmxHttpRequest, agent: Agent, variable: ContextVariable, form: Any, value: ContextVariableValue | None
) -> dict[str, Any]:
    return {"agent": agent, "family": "variables", "variable": variable, "form": form, "value": value}


@require_http_methods(["GET", "POST"])
@studio_view
def variable_value_create(request: HtmxHttpRequest, agent_id: int, variable_id: int) -> HttpResponse:
    """Add the default value or one for a customer tag. htmx gets the values section back; a plain post returns
    to the variable (or, when refused, a page with the form and its errors)."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    variable = _variable(agent, variable_id)
    form = ContextValueCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = form_call(form, lambda: context_value_create(variable, data=form.service_data(), actor=actor))
        if created is not None:
            if request.htmx:
                context = {**_values_context(variable), "agent": agent, "added": created}
                return render(request, "studio/variables/detail.html#variable-values", context)
            messages.success(request, "Value added.")
            return redirect("studio:variable-detail", agent_id=agent.pk, variable_id=variable.pk)
    status = form_status(form) if request.method == "POST" else 200
    if request.htmx:
        context = {**_values_context(variable, create_form=form), "agent": agent}
        return render(request, "studio/variables/detail.html#variable-values", context, status=status)
    return render(
        request, "studio/variables/value_form.html", _value_page(request, agent, variable, form, None), status=status
    )


@require_http_methods(["GET", "POST"])
@studio_view
def variable_value_update(request: HtmxHttpRequest, agent_id: int, variable_id: int, value_id: int) -> HttpResponse:
    """Change one value inline: htmx gets its row back (with errors, or the other version when stale)."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    variable = _variable(agent, variable_id)
    value = context_value_get(variable, value_id)
    form = ContextValueUpdateForm(request.POST or None, initial=ContextValueUpdateForm.initial_for(value))
    saved = None
    if request.method == "POST" and form.is_valid():
        saved = form_call(
            form,
            lambda: context_value_update(
                value, data=form.service_data(), actor=actor, revision=form.expected_revision()
            ),
        )
        if saved is not None:
            if not request.htmx:
                messages.success(request, "Value saved.")
                return redirect("studio:variable-detail", agent_id=agent.pk, variable_id=variable.pk)
            value = context_value_get(variable, value_id)
            form = ContextValueUpdateForm(initial=ContextValueUpdateForm.initial_for(value))
    status = form_status(form) if request.method == "POST" and saved is None else 200
    if request.htmx:
        context = {"agent": agent, "variable": variable, "value": value, "row_form": form, "saved": saved}
        return render(request, "studio/variables/detail.html#value-row", context, status=status)
    return render(
        request, "studio/variables/value_form.html", _value_page(request, agent, variable, form, value), status=status
    )


@require_POST
@studio_view
def variable_value_delete(request: HtmxHttpRequest, agent_id: int, variable_id: int, value_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    variable = _variable(agent, variable_id)
    context_value_delete(context_value_get(variable, value_id), actor=actor)
    if request.htmx:
        context = {**_values_context(variable), "agent": agent}
        return render(request, "studio/variables/detail.html#variable-values", context)
    messages.success(request, "Value removed.")
    return redirect("studio:variable-detail", agent_id=agent.pk, variable_id=variable.pk)
