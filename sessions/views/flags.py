"""The flagged messages of one agent (testers, operators and admins)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.permissions import Role, require_role
from agents.selectors import agent_get
from config.htmx import HtmxHttpRequest
from sessions.selectors import flags_for_agent

FLAGS_PER_PAGE = 50


@require_GET
@login_required
def agent_flags(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    require_role(request.user, Role.TESTER, Role.EDITOR, Role.OPERATOR, Role.ADMIN)
    agent = agent_get(agent_id)
    page = Paginator(flags_for_agent(request.user, agent), FLAGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "sessions/flags.html", {"agent": agent, "page": page, "flags": page.object_list})
