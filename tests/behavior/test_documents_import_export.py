"""Export/import of behavior documents: lossless round trip, atomicity, conflicts and replacement."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent, Tool, ToolParameter
from behavior.documents import document_validate
from behavior.models import (
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
    Tag,
)
from behavior.services import agent_export_document, agent_import_document
from behavior.services.audit import SYSTEM
from config.errors import Conflict, ValidationFailed
from sessions.models import Customer
from tests.factories import make_agent, make_guideline

pytestmark = pytest.mark.django_db

BEHAVIOR_MODELS = (
    Agent,
    Tag,
    Guideline,
    Relationship,
    Journey,
    JourneyState,
    JourneyTransition,
    GlossaryTerm,
    ContextVariable,
    ContextVariableValue,
    CannedResponse,
    Tool,
    ToolParameter,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in BEHAVIOR_MODELS}


def test_the_export_of_a_reimported_export_equals_the_original_export(demo_document: dict[str, Any]) -> None:
    first = agent_export_document(agent_import_document(demo_document, actor=SYSTEM))
    first_copy = {**first, "agent": {**first["agent"], "name": "Skyway Copy"}}

    second = agent_export_document(agent_import_document(first_copy, actor=SYSTEM))

    assert second == first_copy
    assert second["agent"]["name"] == "Skyway Copy"


def test_the_export_of_the_demo_document_is_the_demo_document(demo_document: dict[str, Any]) -> None:
    """The demo file is written in export order, so the round trip reproduces it exactly."""
    exported = agent_export_document(agent_import_document(demo_document, actor=SYSTEM))

    assert exported == document_validate(demo_document).as_data()
    assert exported == demo_document


def test_the_export_is_complete_and_in_a_stable_order(demo_document: dict[str, Any]) -> None:
    exported = agent_export_document(agent_import_document(demo_document, actor=SYSTEM))

    assert [entry["key"] for entry in exported["guidelines"]] == sorted(
        entry["key"] for entry in demo_document["guidelines"]
    )
    assert len(exported["relationships"]) == len(demo_document["relationships"])
    rebooking = next(journey for journey in exported["journeys"] if journey["key"] == "rebooking")
    assert [state["key"] for state in rebooking["states"]][:3] == ["ask-booking", "lookup", "check-fare"]
    assert exported["tags"] == [{"name": name} for name in sorted(tag["name"] for tag in demo_document["tags"])]


def test_a_canned_response_link_written_on_the_state_side_is_exported_on_both_sides(
    demo_document: dict[str, Any],
) -> None:
    response = next(entry for entry in demo_document["canned_responses"] if entry["key"] == "change-fee-quote")
    response["journey_states"] = []  # only rebooking/explain-fee lists it now

    exported = agent_export_document(agent_import_document(demo_document, actor=SYSTEM))

    exported_response = next(entry for entry in exported["canned_responses"] if entry["key"] == "change-fee-quote")
    assert exported_response["journey_states"] == ["rebooking/explain-fee"]


def test_an_error_deep_in_the_document_changes_nothing_and_names_its_path(demo_document: dict[str, Any]) -> None:
    make_agent("Existing agent")
    before = row_counts()
    demo_document["journeys"][1]["transitions"][0]["target"] = "payment"

    with pytest.raises(ValidationFailed) as raised:
        agent_import_document(demo_document, actor=SYSTEM)

    assert raised.value.details == [{"path": "journeys[1].transitions[0].target", "message": 'unknown state "payment"'}]
    assert row_counts() == before


def test_a_failure_while_writing_rolls_everything_back(
    demo_document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior.services import importing

    before = row_counts()

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_write_relationships", explode)

    with pytest.raises(RuntimeError):
        agent_import_document(demo_document, actor=SYSTEM)

    assert row_counts() == before


def test_importing_an_agent_whose_name_is_taken_is_a_conflict(demo_document: dict[str, Any]) -> None:
    make_agent("Skyway Support")
    before = row_counts()

    with pytest.raises(Conflict) as raised:
        agent_import_document(demo_document, actor=SYSTEM)

    assert raised.value.details == [{"path": "agent.name", "message": 'an agent named "Skyway Support" already exists'}]
    assert row_counts() == before


def test_replacing_an_agent_replaces_its_draft_behavior(demo_document: dict[str, Any]) -> None:
    agent = make_agent("Old name")
    make_guideline(agent, "stale-guideline")
    other = make_agent("Bystander")
    make_guideline(other, "unrelated")

    replaced = agent_import_document(demo_document, replace_agent=agent, actor=SYSTEM)

    assert replaced.pk == agent.pk
    assert replaced.name == "Skyway Support"
    assert not Guideline.objects.filter(agent=agent, key="stale-guideline").exists()
    assert Guideline.objects.filter(agent=agent).count() == len(demo_document["guidelines"])
    assert Guideline.objects.filter(agent=other, key="unrelated").exists()
    assert agent_export_document(replaced) == demo_document


def test_replacing_an_agent_keeps_its_per_customer_variable_values(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)
    customer = Customer.objects.create(name="Maria Lopez", external_id="CUST-1001")
    variable = ContextVariable.objects.get(agent=agent, name="loyalty_tier")
    ContextVariableValue.objects.create(variable=variable, scope="customer", customer=customer, value="gold")
    demo_document["context_variables"][0]["description"] = "Tier in Skyway Miles"

    agent_import_document(demo_document, replace_agent=agent, actor=SYSTEM)

    variable.refresh_from_db()
    assert variable.description == "Tier in Skyway Miles"
    assert variable.values.get(scope="customer").value == "gold"
    assert (
        agent_export_document(agent)["context_variables"][0]["values"]
        == demo_document["context_variables"][0]["values"]
    )


def test_replacing_an_agent_with_the_name_of_another_agent_is_a_conflict(demo_document: dict[str, Any]) -> None:
    make_agent("Skyway Support")
    agent = make_agent("Target")
    make_guideline(agent, "keep-me")

    with pytest.raises(Conflict):
        agent_import_document(demo_document, replace_agent=agent, actor=SYSTEM)

    assert Guideline.objects.filter(agent=agent, key="keep-me").exists()


def test_existing_tags_are_reused_by_name(demo_document: dict[str, Any]) -> None:
    vip = Tag.objects.create(name="vip")

    agent = agent_import_document(demo_document, actor=SYSTEM)

    assert Tag.objects.filter(name="vip").count() == 1
    assert Guideline.objects.get(agent=agent, key="gold-change-fee-waiver").tags.get() == vip


def test_an_observation_is_stored_without_an_action(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)

    observation = Guideline.objects.get(agent=agent, key="wants-rebooking")

    assert observation.action is None
    assert observation.is_observation


def test_import_and_export_cost_a_bounded_number_of_queries(
    minimal_document: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """Bulk writes and prefetches: 500 guidelines cost no more queries than a handful would."""
    minimal_document["tags"] = [{"name": "bulk"}]
    minimal_document["guidelines"] = [
        {"key": f"rule-{index:03d}", "condition": f"Condition {index}", "action": f"Action {index}", "tags": ["bulk"]}
        for index in range(500)
    ]

    with django_assert_max_num_queries(40):
        agent = agent_import_document(minimal_document, actor=SYSTEM)
    with django_assert_max_num_queries(25):
        exported = agent_export_document(agent)

    assert len(exported["guidelines"]) == 500
    assert exported["guidelines"][499]["tags"] == ["bulk"]
