"""Sandbox URLs, mounted under /sandbox/."""

from __future__ import annotations

from django.urls import path

from sessions.views import flags, sandbox, session, trace

app_name = "sandbox"

urlpatterns = [
    path("", sandbox.sandbox_home, name="home"),
    path("customers/new/", sandbox.sandbox_customer_create, name="customer-create"),
    path("sessions/new/", sandbox.sandbox_session_start, name="session-start"),
    path("agents/<int:agent_id>/try/", sandbox.sandbox_try, name="try"),
    path("sessions/<uuid:uid>/", session.session_detail, name="session"),
    path("sessions/<uuid:uid>/messages/", session.message_post, name="message-post"),
    path("sessions/<uuid:uid>/operator-messages/", session.operator_message, name="operator-message"),
    path("sessions/<uuid:uid>/mode/", session.mode_set, name="mode"),
    path("sessions/<uuid:uid>/events/<int:offset>/", session.session_event_fragment, name="event"),
    path("sessions/<uuid:uid>/events/<int:offset>/branch/", session.branch, name="branch"),
    path("sessions/<uuid:uid>/events/<int:offset>/regenerate/", session.regenerate, name="regenerate"),
    path("sessions/<uuid:uid>/events/<int:offset>/flag/", session.flag, name="flag"),
    path("sessions/<uuid:uid>/turns/<int:turn_id>/trace/", trace.turn_trace_view, name="trace"),
    path("agents/<int:agent_id>/flags/", flags.agent_flags, name="agent-flags"),
]
