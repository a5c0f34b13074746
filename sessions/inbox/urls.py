"""Inbox URLs, mounted under /inbox/."""

from __future__ import annotations

from django.urls import path

from sessions.inbox import views

app_name = "inbox"

urlpatterns = [path("", views.inbox_list, name="list")]
