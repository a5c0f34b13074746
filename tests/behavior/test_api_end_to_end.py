"""The issue's "Must show" through the API: with a key from `manage.py create_api_key`, create an agent, a
guideline, a journey with states and transitions, publish a version, export it, and talk to it."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

from behavior.models import BehaviorVersion
from tests.api_helpers import ApiClient
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_an_editor_builds_publishes_and_exports_an_agent_and_a_tester_talks_to_it() -> None:
    make_user("ops", "admin")
    output = io.StringIO()
    call_command("create_api_key", name="curl", role="admin", user="ops", stdout=output, stderr=io.StringIO())
    api = ApiClient(output.getvalue().strip())

    agent = api.post("/agents", {"name": "Skyway Support", "description": "You are Skyway's assistant."}).json()
    guideline = api.post(
        "/guidelines",
        {"agent": agent["id"], "key": "greet", "condition": "The customer says hello", "action": "Greet them by name"},
    ).json()
    trigger = api.post(
        "/guidelines",
        {"agent": agent["id"], "key": "wants-rebooking", "condition": "The customer wants another flight"},
    ).json()
    journey = api.post(
        "/journeys", {"agent": agent["id"], "key": "rebooking", "title": "Rebook a flight", "triggers": [trigger["id"]]}
    ).json()
    states = [
        api.post(f"/journeys/{journey['id']}/states", body).json()
        for body in (
            {"key": "ask-booking", "action": "Ask for the booking reference", "initial": True},
            {"key": "offer", "action": "Offer the available flights"},
            {"key": "done", "kind": "end"},
        )
    ]
    for source, target, condition in ((0, 1, "The customer gave a booking reference"), (1, 2, None)):
        created = api.post(
            f"/journeys/{journey['id']}/transitions",
            {"source": states[source]["id"], "target": states[target]["id"], "condition": condition},
        )
        assert created.status_code == 201
    assert api.get(f"/journeys/{journey['id']}/validate").json()["ok"] is True

    published = api.post(f"/agents/{agent['id']}/publish", {"note": "First release"})
    exported = api.get(f"/agents/{agent['id']}/export", format="yaml", version="1")

    assert published.status_code == 201
    assert published.json()["number"] == 1
    document = yaml.safe_load(exported.content)
    assert document == BehaviorVersion.objects.get(agent_id=agent["id"], number=1).document
    assert [item["key"] for item in document["guidelines"]] == [guideline["key"], "wants-rebooking"]
    assert document["guidelines"][1]["action"] is None
    rebooking = document["journeys"][0]
    assert rebooking["triggers"] == ["wants-rebooking"]
    assert [state["key"] for state in rebooking["states"]] == ["ask-booking", "offer", "done"]
    assert rebooking["transitions"] == [
        {"source": "ask-booking", "target": "offer", "condition": "The customer gave a booking reference"},
        {"source": "offer", "target": "done", "condition": None},
    ]

    customer = api.post("/customers", {"name": "Ada", "external_id": "ada-1"}).json()
    session = api.post("/sessions", {"agent": agent["id"], "customer": customer["id"]}).json()
    assert session["version"] == 1
    message = api.post(f"/sessions/{session['uid']}/messages", {"text": "Hello!"})
    assert message.status_code == 202
    events = api.get(f"/sessions/{session['uid']}/events", after=0).json()
    assert [event["data"]["text"] for event in events["events"]] == ["Hello!"]
