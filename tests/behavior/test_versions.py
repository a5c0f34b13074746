"""Publishing versions (numbered, immutable snapshots of the draft), reading them back and diffing them."""

from __future__ import annotations

from typing import Any

import pytest

from behavior.models import BehaviorVersion, Guideline, ImmutableRecordError, JourneyState
from behavior.selectors import version_get, version_list
from behavior.services import (
    agent_export_document,
    agent_import_document,
    version_diff,
    version_publish,
)
from behavior.services.audit import SYSTEM, studio_actor
from config.errors import NotFound, ValidationFailed
from tests.factories import make_agent, make_guideline

pytestmark = pytest.mark.django_db


def test_publishing_freezes_the_draft_as_version_1_and_points_the_agent_at_it(
    demo_document: dict[str, Any], editor_user: Any
) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)

    version = version_publish(agent, actor=studio_actor(editor_user), note="First release")

    agent.refresh_from_db()
    assert version.number == 1
    assert agent.published_version == version
    assert version.document == agent_export_document(agent) == demo_document
    assert version.author == editor_user
    assert version.note == "First release"


def test_each_publish_gets_the_next_number_per_agent(editor_user: Any) -> None:
    agent, other = make_agent("First"), make_agent("Second")

    numbers = [version_publish(agent, actor=studio_actor(editor_user)).number for _ in range(3)]
    other_version = version_publish(other, actor=SYSTEM)

    assert numbers == [1, 2, 3]
    assert other_version.number == 1
    assert [version.number for version in version_list(agent)] == [3, 2, 1]


def test_a_published_version_does_not_change_when_the_draft_does(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)
    version = version_publish(agent, actor=SYSTEM)
    Guideline.objects.filter(agent=agent, key="greet").update(condition="The customer says hi")

    version.refresh_from_db()

    greet = next(entry for entry in version.document["guidelines"] if entry["key"] == "greet")
    assert greet["condition"] == "The customer greets you or the conversation has just started"


def test_a_version_row_cannot_be_modified(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)
    version = version_publish(agent, actor=SYSTEM)
    version.note = "rewritten history"

    with pytest.raises(ImmutableRecordError):
        version.save()
    with pytest.raises(ImmutableRecordError):
        BehaviorVersion.objects.filter(pk=version.pk).update(note="rewritten")

    assert BehaviorVersion.objects.get(pk=version.pk).note == ""


def test_a_draft_with_validation_errors_is_not_published(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)
    JourneyState.objects.filter(journey__agent=agent, journey__key="rebooking", key="ask-booking").update(initial=False)

    with pytest.raises(ValidationFailed) as raised:
        version_publish(agent, actor=SYSTEM)

    assert raised.value.message == "The draft has validation errors; fix them before publishing."
    assert raised.value.details == [
        {
            "path": "journeys[1].states",
            "message": "a journey needs exactly one initial state (none is marked initial: true)",
        }
    ]
    agent.refresh_from_db()
    assert agent.published_version is None
    assert not BehaviorVersion.objects.filter(agent=agent).exists()


def test_an_overlong_note_is_refused() -> None:
    agent = make_agent()

    with pytest.raises(ValidationFailed):
        version_publish(agent, actor=SYSTEM, note="x" * 2001)

    assert not BehaviorVersion.objects.exists()


def test_version_get_finds_a_version_by_number_and_only_for_its_agent() -> None:
    agent, other = make_agent(), make_agent()
    version_publish(agent, actor=SYSTEM)
    second = version_publish(agent, actor=SYSTEM)

    assert version_get(agent, 2) == second
    with pytest.raises(NotFound):
        version_get(agent, 3)
    with pytest.raises(NotFound):
        version_get(other, 2)


def test_the_diff_reports_an_added_guideline_and_a_changed_condition() -> None:
    agent = make_agent("Diff Agent")
    make_guideline(agent, "greet", condition="The customer says hello", action="Greet them")
    first = version_publish(agent, actor=SYSTEM)
    Guideline.objects.filter(agent=agent, key="greet").update(condition="The customer greets you")
    make_guideline(agent, "refunds", condition="The customer asks for a refund", action="Explain the policy")
    second = version_publish(agent, actor=SYSTEM)

    diff = version_diff(first.document, second.document)

    assert diff == [
        {
            "kind": "guidelines",
            "added": ["refunds"],
            "removed": [],
            "changed": [
                {
                    "key": "greet",
                    "changes": [
                        {"field": "condition", "old": "The customer says hello", "new": "The customer greets you"}
                    ],
                }
            ],
        }
    ]


def test_the_diff_of_identical_documents_is_empty(demo_document: dict[str, Any]) -> None:
    assert version_diff(demo_document, demo_document) == []


def test_the_diff_compares_journey_states_and_agent_settings_field_by_field(demo_document: dict[str, Any]) -> None:
    import copy

    new = copy.deepcopy(demo_document)
    new["agent"]["temperature"] = 0.5
    rebooking = next(journey for journey in new["journeys"] if journey["key"] == "rebooking")
    rebooking["states"][0]["action"] = "Ask for the booking code"
    new["relationships"].pop(0)

    diff = version_diff(demo_document, new)

    assert diff[0] == {
        "kind": "agent",
        "added": [],
        "removed": [],
        "changed": [{"key": "Skyway Support", "changes": [{"field": "temperature", "old": 0.2, "new": 0.5}]}],
    }
    assert diff[1] == {
        "kind": "relationships",
        "added": [],
        "removed": ["guideline:cancelled-flight-options depends_on guideline:reports-flight-cancelled"],
        "changed": [],
    }
    assert diff[2]["kind"] == "journeys"
    assert diff[2]["changed"] == [
        {
            "key": "rebooking",
            "changes": [
                {
                    "field": "states[ask-booking].action",
                    "old": "Ask for the six-character booking reference, unless the customer already gave it",
                    "new": "Ask for the booking code",
                }
            ],
        }
    ]


def test_the_diff_reports_removed_entities_and_nested_items(demo_document: dict[str, Any]) -> None:
    import copy

    new = copy.deepcopy(demo_document)
    new["glossary"] = [term for term in new["glossary"] if term["name"] != "PIR"]
    new["tools"][0]["parameters"].pop()  # contact_phone

    diff = {entry["kind"]: entry for entry in version_diff(demo_document, new)}

    assert diff["glossary"]["removed"] == ["PIR"]
    (tool_change,) = diff["tools"]["changed"]
    assert tool_change["key"] == "file_baggage_claim"
    assert tool_change["changes"][0]["field"] == "parameters[contact_phone]"
    assert tool_change["changes"][0]["new"] is None
