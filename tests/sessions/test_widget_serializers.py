"""What a widget customer sees of each stored event: conversation and a few statuses, never internals."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import Agent, WidgetKey
from sessions.widget.serializers import customer_event_dict


def stored(kind: str, source: str, data: dict[str, Any], offset: int = 3) -> dict[str, Any]:
    return {"offset": offset, "kind": kind, "source": source, "data": data, "created_at": "2026-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("processing", "processing"),
        ("typing", "typing"),
        ("ready", "ready"),
        ("handoff_requested", "waiting"),
        ("agent_resumed", "agent_resumed"),
        ("closed", "closed"),
    ],
)
def test_a_status_is_shown_under_its_customer_name(status: str, shown: str) -> None:
    event = customer_event_dict(stored("status", "system", {"status": status, "reason": "tool", "mode": "waiting"}))
    assert event == {"offset": 3, "kind": "status", "status": shown, "created_at": "2026-01-01T00:00:00+00:00"}


def test_an_error_status_is_shown_without_its_details() -> None:
    event = customer_event_dict(stored("status", "system", {"status": "error", "message": "Traceback: db password"}))
    assert event is not None and event["status"] == "error"
    assert "Traceback" not in json.dumps(event)


def test_a_human_taking_over_is_shown_with_the_operators_display_name_only() -> None:
    operator = {"id": 7, "name": "Dana Scully", "display_name": "Dana"}
    event = customer_event_dict(stored("status", "system", {"status": "human_takeover", "operator": operator}))
    assert event is not None and event["status"] == "human_joined" and event["operator"] == {"name": "Dana"}


@pytest.mark.parametrize("status", ["acknowledged", "cancelled", "something_new"])
def test_other_statuses_are_hidden(status: str) -> None:
    assert customer_event_dict(stored("status", "system", {"status": status})) is None


@pytest.mark.parametrize(
    ("kind", "source"),
    [("tool", "agent"), ("custom", "system"), ("message", "system")],
)
def test_tool_custom_and_system_events_are_hidden(kind: str, source: str) -> None:
    assert customer_event_dict(stored(kind, source, {"text": "internal", "result": {"secret": 1}})) is None


def test_a_message_keeps_its_text_and_message_id_and_nothing_else() -> None:
    data = {"text": "<b>Hi</b>", "message_id": "m7", "metadata": {"internal": True}, "trace": {"x": 1}}
    event = customer_event_dict(stored("message", "agent", data))
    assert event == {
        "offset": 3,
        "kind": "message",
        "source": "agent",
        "text": "<b>Hi</b>",
        "message_id": "m7",
        "created_at": "2026-01-01T00:00:00+00:00",
    }


@pytest.mark.django_db
def test_the_widget_key_command_sets_up_a_key_and_prints_it_as_json(agent: Agent) -> None:
    out = StringIO()
    call_command("widget_key", agent.name, "--origin", "http://localhost:8000", "--enforce", stdout=out)
    printed = json.loads(out.getvalue())
    key = WidgetKey.objects.get(agent=agent)
    assert printed["public_key"] == key.public_key and printed["identity_secret"] == key.identity_secret
    assert key.allowed_origins == ["http://localhost:8000"] and key.enforce_identity

    out = StringIO()
    call_command("widget_key", agent.name, "--origin", "https://shop.example.com", "--rotate", stdout=out)
    again = json.loads(out.getvalue())
    assert again["public_key"] != printed["public_key"] and again["generation"] == printed["generation"] + 1
    assert again["allowed_origins"] == ["https://shop.example.com"] and again["enforce_identity"] is False


@pytest.mark.django_db
def test_the_widget_key_command_refuses_an_unknown_agent_or_a_bad_origin(agent: Agent) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No agent"):
        call_command("widget_key", "Nobody", "--origin", "http://localhost:8000")
    with pytest.raises(CommandError, match="wildcard"):
        call_command("widget_key", agent.name, "--origin", "https://*.example.com")
