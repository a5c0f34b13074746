"""Inbox URLs, mounted under /inbox/."""

from __future__ import annotations

from django.urls import path

from sessions.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("sessions/<uuid:uid>/", views.conversation, name="session"),
    path("sessions/<uuid:uid>/take/", views.take, name="session-take"),
    path("sessions/<uuid:uid>/hand-back/", views.hand_back, name="session-hand-back"),
    path("sessions/<uuid:uid>/reply/", views.reply, name="session-reply"),
    path("sessions/<uuid:uid>/notes/", views.note_create, name="note-create"),
]
