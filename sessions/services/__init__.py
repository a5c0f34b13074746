"""Services that change conversation state, split by subdomain (core: customers, sessions, events)."""

from __future__ import annotations

from sessions.services.core import EVENT_DATA_MAX_BYTES, customer_create, event_append, session_create

__all__ = ["EVENT_DATA_MAX_BYTES", "customer_create", "event_append", "session_create"]
