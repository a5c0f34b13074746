"""Services that change conversation state, split by subdomain (core: customers, sessions, events)."""

from __future__ import annotations

from sessions.services.core import customer_create, event_append, session_create

__all__ = ["customer_create", "event_append", "session_create"]
