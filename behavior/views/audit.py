"""The studio's history pages: every change to one agent (studio, API, import), who made it and when, with
each field's before and after; filterable by user and by entity."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from behavior.forms.audit import AuditFilterForm
from behavior.selectors.audit import (
    ENTITY_TYPE_LABELS,
    audit_entity_types,
    audit_entries,
    audit_entry_get,
    audit_rows,
    audit_users,
)
from behavior.views.access import studio_agent, studio_view
from config.htmx import HtmxHttpRequest

ENTRIES_PER_PAGE = 30


@require_GET
@studio_view
def audit_list(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(audit_entries(agent, **filters), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    query = {
        name: value
        for name, value in (
            ("user", filters["user_id"]),
            ("entity_type", filters["entity_type"]),
            ("entity_id", filters["entity_id"]),
        )
        if value is not None
    }
    context = {
        "agent": agent,
        "family": "audit",
        "page": page,
        "rows": audit_rows(agent, page.object_list),
        "filters": filters,
        "query": urlencode(query),
        "users": audit_users(agent),
        "entity_types": audit_entity_types(agent),
        "entity_label": ENTITY_TYPE_LABELS.get(filters["entity_type"] or "", filters["entity_type"]),
    }
    template = "studio/audit/list.html#audit-entries" if request.htmx else "studio/audit/list.html"
    return render(request, template, context)


@require_GET
@studio_view
def audit_detail(request: HtmxHttpRequest, agent_id: int, entry_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    entry = audit_entry_get(agent, entry_id)
    context = {"agent": agent, "family": "audit", "row": audit_rows(agent, [entry])[0]}
    return render(request, "studio/audit/detail.html", context)
