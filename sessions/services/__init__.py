"""Services that change conversation state, split by subdomain (core: customers, sessions, events; messages:
customer and operator messages, human mode; turns: turn execution)."""

from __future__ import annotations

from sessions.services.core import EVENT_DATA_MAX_BYTES, customer_create, event_append, session_create
from sessions.services.messages import customer_message_post, operator_message_post, session_mode_set

__all__ = [
    "EVENT_DATA_MAX_BYTES",
    "customer_create",
    "customer_message_post",
    "event_append",
    "operator_message_post",
    "session_create",
    "session_mode_set",
]
