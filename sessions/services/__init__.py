"""Services that change conversation state, split by subdomain (core: sessions and the event log; customers;
messages: customer and operator messages, human mode; turns: executing a stored turn; records: the API's session
edits and rewind; sandbox: branching, regenerating, flags)."""

from __future__ import annotations

from sessions.services.core import EVENT_DATA_MAX_BYTES, event_append, session_create
from sessions.services.customers import customer_create, customer_delete, customer_update
from sessions.services.messages import customer_message_post, operator_message_post, session_mode_set

__all__ = [
    "EVENT_DATA_MAX_BYTES",
    "customer_create",
    "customer_delete",
    "customer_message_post",
    "customer_update",
    "event_append",
    "operator_message_post",
    "session_create",
    "session_mode_set",
]
