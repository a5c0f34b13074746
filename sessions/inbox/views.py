"""The operators' inbox: conversations a human handles now (human mode), most recently active first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.permissions import Area
from config.access import area_required
from config.htmx import HtmxHttpRequest
from sessions.models import SessionMode
from sessions.selectors import session_list, sessions_visible_to

SESSIONS_PER_PAGE = 30


@require_GET
@login_required
@area_required(Area.INBOX)
def inbox_list(request: HtmxHttpRequest) -> HttpResponse:
    sessions = session_list(visible_to=sessions_visible_to(request.user), mode=SessionMode.HUMAN).select_related(
        "agent", "customer"
    )
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inbox/list.html", {"page": page, "sessions": page.object_list})
