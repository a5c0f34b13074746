"""Routes of the widget's public HTTP endpoints, mounted at /widget/ (docs/widget.md)."""

from __future__ import annotations

from django.urls import path

from sessions.widget import views

app_name = "widget"

urlpatterns = [
    path("v1/visitor", views.visitor_start, name="visitor"),
    path("v1/sessions", views.session_open, name="session-open"),
    path("v1/sessions/<str:uid>/", views.session_detail, name="session-detail"),
    path("v1/sessions/<str:uid>/events", views.session_events, name="session-events"),
    path("v1/sessions/<str:uid>/messages", views.message_create, name="message-create"),
    path("v1/sessions/<str:uid>/handoff", views.handoff_create, name="handoff-create"),
    path("v1/sessions/<str:uid>/typing", views.typing_create, name="typing-create"),
    path("v1/sessions/<str:uid>/close", views.session_close, name="session-close"),
    path("v1/sessions/<str:uid>/rating", views.rating_set, name="rating-set"),
]
