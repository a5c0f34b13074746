"""behavior/snapshot.py: a behavior document becomes the engine's frozen snapshot."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from behavior.engine.types import (
    CannedField,
    EntityRef,
    JourneyState,
    JourneyTransition,
    Relationship,
    ToolParameter,
)
from behavior.snapshot import SnapshotError, document_fingerprint, snapshot_from_document
from tests.engine.builders import conversation, turn
from tests.engine.fakes import FakeToolRunner, ScriptedLLM

DOCUMENT = {
    "format": "decorum.behavior",
    "schema_version": 1,
    "agent": {
        "name": "Skyway Support",
        "description": "You are Skyway Airlines' support assistant.",
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "llm_profile": "default",
        "composition_mode": "strict",
        "no_match_reply": "Sorry, I can't help with that here.",
        "max_preparation_iterations": 9,
        "moderation": True,
        "preamble": True,
        "tags": ["airline"],
    },
    "tags": [{"name": "airline"}],
    "guidelines": [
        {
            "key": "refund-policy",
            "title": "Refund policy",
            "condition": "The customer asks for a refund",
            "action": "Explain the refund policy",
            "criticality": "high",
            "priority": 2,
            "enabled": True,
            "track": False,
            "continuous": True,
            "tags": ["airline"],
            "tools": ["lookup_booking"],
            "labels": ["money"],
            "metadata": {"owner": "ops"},
        },
        {"key": "wants-rebooking", "condition": "The customer wants to change their flight", "action": None},
    ],
    "relationships": [
        {
            "kind": "overrides",
            "source": {"type": "guideline", "ref": "refund-policy"},
            "target": {"type": "tag", "ref": "airline"},
        }
    ],
    "journeys": [
        {
            "key": "rebooking",
            "title": "Rebook a flight",
            "triggers": ["wants-rebooking"],
            "conditions": ["The customer mentions rebooking"],
            "states": [
                {
                    "key": "ask-booking",
                    "kind": "chat",
                    "action": "Ask for the booking reference",
                    "initial": True,
                    "canned_responses": ["greeting"],
                },
                {"key": "lookup", "kind": "tool", "tool": "lookup_booking", "tools": []},
            ],
            "transitions": [
                {"source": "ask-booking", "target": "lookup", "condition": "The customer gave a booking reference"}
            ],
        },
    ],
    "glossary": [{"name": "PNR", "synonyms": ["booking reference"], "description": "Booking code", "tags": []}],
    "context_variables": [
        {
            "name": "loyalty_tier",
            "description": "Tier",
            "tool": None,
            "freshness_seconds": None,
            "tags": [],
            "values": [
                {"scope": "default", "key": None, "value": "standard"},
                {"scope": "customer_tag", "key": "vip", "value": "gold"},
            ],
        },
    ],
    "canned_responses": [
        {
            "key": "greeting",
            "template": "Hello {{ customer.name }}!",
            "fields": [{"name": "booking_status", "kind": "tool", "description": "status"}],
            "signals": ["hi"],
            "tags": [],
            "guidelines": ["refund-policy"],
            "journey_states": ["rebooking/ask-booking"],
        },
    ],
    "tool_services": [{"name": "crm", "url": "http://127.0.0.1:9000/openapi.json", "timeout_seconds": 5}],
    "tools": [
        {
            "name": "lookup_booking",
            "description": "Look up a booking",
            "implementation": "remote",
            "service": "crm",
            "consequential": True,
            "timeout_seconds": 7,
            "parameters": [
                {
                    "name": "booking_reference",
                    "type": "str",
                    "description": "Reference",
                    "required": True,
                    "enum": [],
                    "items": None,
                },
                {"name": "cabin", "type": "enum", "required": False, "enum": ["economy", "business"]},
                {"name": "dates", "type": "list", "items": "date", "required": False},
            ],
        },
    ],
}


def test_a_document_maps_to_a_snapshot_keyed_by_document_keys() -> None:
    snap = snapshot_from_document(DOCUMENT)

    agent = snap.agent
    assert (agent.name, agent.composition_mode, agent.moderation, agent.preamble, agent.tags) == (
        "Skyway Support",
        "strict",
        True,
        True,
        ("airline",),
    )
    assert agent.max_preparation_iterations == 5  # clamped to 1..5
    refund = snap.guideline_by_key["refund-policy"]
    assert (refund.criticality, refund.priority, refund.track, refund.continuous, refund.tools, refund.metadata) == (
        "high",
        2,
        False,
        True,
        ("lookup_booking",),
        {"owner": "ops"},
    )
    assert snap.guideline_by_key["wants-rebooking"].is_observation
    assert snap.relationships == (
        Relationship(
            kind="overrides", source=EntityRef("guideline", "refund-policy"), target=EntityRef("tag", "airline")
        ),
    )
    journey = snap.journey_by_key["rebooking"]
    assert journey.initial_state == JourneyState(
        key="ask-booking", action="Ask for the booking reference", initial=True, canned_responses=("greeting",)
    )
    assert journey.state("lookup").tool == "lookup_booking"
    assert journey.transitions == (JourneyTransition("ask-booking", "lookup", "The customer gave a booking reference"),)
    assert journey.conditions == ("The customer mentions rebooking",)
    variable = snap.variables[0]
    assert (variable.default, dict(variable.tag_values)) == ("standard", {"vip": "gold"})
    canned = snap.canned_by_key["greeting"]
    assert canned.fields == (CannedField(name="booking_status", kind="tool", description="status"),)
    assert canned.journey_states == ("rebooking/ask-booking",)
    tool = snap.tool_by_name["lookup_booking"]
    assert (tool.implementation, tool.service, tool.consequential, tool.timeout_seconds) == ("remote", "crm", True, 7.0)
    assert tool.parameters[1] == ToolParameter(name="cabin", type="enum", required=False, enum=("economy", "business"))
    assert tool.parameters[2].items == "date"
    assert snap.tags == ("airline",)
    assert snap.fingerprint == document_fingerprint(DOCUMENT)


def test_equal_documents_share_a_fingerprint_and_a_change_alters_it() -> None:
    changed = copy.deepcopy(DOCUMENT)
    changed["guidelines"][0]["action"] = "Something else"

    assert document_fingerprint(copy.deepcopy(DOCUMENT)) == document_fingerprint(DOCUMENT)
    assert document_fingerprint(changed) != document_fingerprint(DOCUMENT)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("agent", "name"), "", "agent.name must be a non-empty string"),
        (("agent", "composition_mode"), "poetic", "agent.composition_mode must be one of fluid, composited, strict"),
        (("guidelines", 0, "condition"), None, "guidelines[0].condition must be a non-empty string"),
        (("relationships", 0, "kind"), "loves", "relationships[0].kind must be one of"),
        (
            ("journeys", 0, "transitions", 0, "target"),
            "nowhere",
            "journeys[0].transitions[0] refers to an unknown state",
        ),
        (("journeys", 0, "states", 1, "tool"), None, "journeys[0].states[1].tool is required for a tool state"),
        (("tools", 0, "parameters", 1, "enum"), [], "tools[0].parameters[1].enum must list the values"),
        (("tools", 0, "parameters", 0, "type"), "blob", "tools[0].parameters[0].type must be one of"),
        (
            ("context_variables", 0, "values", 0, "scope"),
            "planet",
            "context_variables[0].values[0].scope must be default or customer_tag",
        ),
        (("guidelines",), "not a list", "guidelines must be a list"),
    ],
)
def test_a_broken_document_is_rejected_with_its_location(path: tuple, value: object, message: str) -> None:
    document = copy.deepcopy(DOCUMENT)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    with pytest.raises(SnapshotError, match=message.replace("[", r"\[").replace("]", r"\]")):
        snapshot_from_document(document)


def test_a_minimal_document_gets_defaults() -> None:
    snap = snapshot_from_document({"agent": {"name": "Tiny"}})

    assert (snap.agent.composition_mode, snap.agent.model, snap.agent.max_preparation_iterations) == (
        "fluid",
        "gpt-4o-mini",
        2,
    )
    assert snap.guidelines == () and snap.journeys == ()


async def test_the_demo_agent_runs_a_turn_end_to_end() -> None:
    document = yaml.safe_load((Path(__file__).parents[2] / "behavior" / "demo" / "skyway.yaml").read_text())
    snap = snapshot_from_document(document)
    llm = ScriptedLLM(applies=lambda key, request: key == "baggage-allowance")

    t = await turn(snap, conversation("How many bags can I bring on my Flex fare?"), llm=llm, tools=FakeToolRunner())

    assert t.result.outcome == "replied"
    assert "baggage-allowance" in t.trace["resolution"]["active"]
    assert "Flex includes two checked bags" in t.composition_prompt()
