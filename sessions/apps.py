from __future__ import annotations

from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    """Customers, sessions, events, turns and traces. Labelled `conversations` because
    `django.contrib.sessions` already owns the label `sessions`."""

    name = "sessions"
    label = "conversations"
    verbose_name = "Conversations"
    default_auto_field = "django.db.models.BigAutoField"
