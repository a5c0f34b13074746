"""Sandbox URLs, mounted under /sandbox/."""

from __future__ import annotations

from django.urls import path

from sessions.views import actions, pages, trace

app_name = "sandbox"

urlpatterns = [
    path("", pages.sandbox_home, name="home"),
    path("customers/new/", actions.customer_create, name="customer-create"),
    path("sessions/new/", actions.session_start, name="session-start"),
    path("sessions/<uuid:uid>/", pages.session_detail, name="session"),
    path("sessions/<uuid:uid>/messages/", actions.message_post, name="message-post"),
    path("sessions/<uuid:uid>/operator-messages/", actions.operator_message, name="operator-message"),
    path("sessions/<uuid:uid>/mode/", actions.mode_set, name="mode"),
    path("sessions/<uuid:uid>/events/<int:offset>/", pages.session_event_fragment, name="event"),
    path("sessions/<uuid:uid>/events/<int:offset>/branch/", actions.branch, name="branch"),
    path("sessions/<uuid:uid>/events/<int:offset>/regenerate/", actions.regenerate, name="regenerate"),
    path("sessions/<uuid:uid>/events/<int:offset>/flag/", actions.flag, name="flag"),
    path("sessions/<uuid:uid>/turns/<int:turn_id>/trace/", trace.turn_trace_view, name="trace"),
    path("agents/<int:agent_id>/flags/", pages.agent_flags, name="agent-flags"),
]
