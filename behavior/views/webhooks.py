"""The studio's Webhooks pages of one agent: endpoints (create, change, delete), one endpoint's delivery log with
status codes and errors, and "Redeliver". Everyone with a studio role reads them; editors and admins change them
and see the signing secret."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from agents.permissions import user_may_edit_behavior
from behavior.forms.webhooks import EndpointForm
from behavior.views.access import require_editor, studio_agent, studio_view
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest
from sessions.models import WebhookDelivery, WebhookEndpoint
from sessions.webhooks.services import delivery_redeliver, endpoint_create, endpoint_delete, endpoint_update

DELIVERIES_PER_PAGE = 25


def _endpoint(agent: Agent, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(agent=agent, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("This agent has no such webhook endpoint.")
    return endpoint


def _list_context(request: HtmxHttpRequest, agent: Agent, **extra: Any) -> dict[str, Any]:
    return {
        "agent": agent,
        "family": "webhooks",
        "may_edit": user_may_edit_behavior(request.user),
        "endpoints": list(WebhookEndpoint.objects.filter(agent=agent).order_by("id")),
        "form": EndpointForm(),
        **extra,
    }


@require_GET
@studio_view
def webhook_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    return render(request, "studio/webhooks/list.html", _list_context(request, agent))


@require_POST
@studio_view
def webhook_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    require_editor(request)
    form = EndpointForm(request.POST)
    if form.is_valid():
        endpoint = form_call(form, lambda: endpoint_create(agent=agent, **form.cleaned_data))
        if endpoint is not None:
            messages.success(request, "Webhook endpoint added. Verify its signatures with the secret shown here.")
            return redirect("studio:webhook-detail", agent_id=agent.pk, endpoint_id=endpoint.pk)
    return render(
        request, "studio/webhooks/list.html", _list_context(request, agent, form=form), status=form_status(form)
    )


def _detail(request: HtmxHttpRequest, agent: Agent, endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    form = extra.pop("form", None) or EndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": list(endpoint.event_types or []),
            "enabled": endpoint.enabled,
        }
    )
    return {
        "agent": agent,
        "family": "webhooks",
        "may_edit": user_may_edit_behavior(request.user),
        "endpoint": endpoint,
        "form": form,
        "page": page,
        "deliveries": page.object_list,
        "query": "",
        **extra,
    }


@require_GET
@studio_view
def webhook_detail_view(request: HtmxHttpRequest, agent_id: int, endpoint_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    endpoint = _endpoint(agent, endpoint_id)
    return render(request, "studio/webhooks/detail.html", _detail(request, agent, endpoint))


@require_POST
@studio_view
def webhook_update_view(request: HtmxHttpRequest, agent_id: int, endpoint_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    require_editor(request)
    endpoint = _endpoint(agent, endpoint_id)
    form = EndpointForm(request.POST)
    if form.is_valid():
        saved = form_call(form, lambda: endpoint_update(endpoint, **form.cleaned_data))
        if saved is not None:
            messages.success(request, "Webhook endpoint saved.")
            return redirect("studio:webhook-detail", agent_id=agent.pk, endpoint_id=endpoint.pk)
    context = _detail(request, agent, endpoint, form=form)
    return render(request, "studio/webhooks/detail.html", context, status=form_status(form))


@require_POST
@studio_view
def webhook_delete_view(request: HtmxHttpRequest, agent_id: int, endpoint_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    require_editor(request)
    endpoint_delete(_endpoint(agent, endpoint_id))
    messages.success(request, "Webhook endpoint deleted, with its delivery log.")
    return redirect("studio:webhook-list", agent_id=agent.pk)


@require_POST
@studio_view
def webhook_redeliver_view(request: HtmxHttpRequest, agent_id: int, endpoint_id: int, delivery_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    require_editor(request)
    endpoint = _endpoint(agent, endpoint_id)
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_id).first()
    if delivery is None:
        raise Http404("This endpoint has no such delivery.")
    delivery_redeliver(delivery)
    messages.success(request, f"Delivery of {delivery.event_type} queued again.")
    return redirect("studio:webhook-detail", agent_id=agent.pk, endpoint_id=endpoint.pk)
