"""Two editors at once, at the service level: every entity carries a revision, a write made from a stale one is
refused with the stored values (nothing is silently lost), and every change records who, what and the
field-level before/after in the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from agents.models import Agent
from agents.services import agent_update
from behavior.models import AuditEntry, CannedResponse, ContextVariable, GlossaryTerm, Guideline
from behavior.services.audit import Actor, StaleRevision, studio_actor
from behavior.services.canned_responses import canned_response_create, canned_response_update
from behavior.services.glossary import glossary_term_create, glossary_term_update
from behavior.services.guidelines import guideline_create, guideline_delete, guideline_update
from behavior.services.journeys import journey_state_update
from behavior.services.variables import context_variable_create, context_variable_update
from tests.factories import make_journey

pytestmark = pytest.mark.django_db


def _reload(row: models.Model) -> Any:
    return type(row)._default_manager.get(pk=row.pk)


def _guideline(agent: Agent, actor: Actor) -> Guideline:
    return guideline_create(
        agent=agent,
        data={"key": "refunds", "condition": "The customer asks for a refund", "action": "Explain"},
        actor=actor,
    )


def _term(agent: Agent, actor: Actor) -> GlossaryTerm:
    return glossary_term_create(
        agent=agent, data={"name": "Skymiles", "description": "Our loyalty points"}, actor=actor
    )


def _canned(agent: Agent, actor: Actor) -> CannedResponse:
    return canned_response_create(agent=agent, data={"key": "hello", "template": "Hello!"}, actor=actor)


def _variable(agent: Agent, actor: Actor) -> ContextVariable:
    return context_variable_create(agent=agent, data={"name": "tier", "description": "Loyalty tier"}, actor=actor)


# (make the entity, update it with a change, the field the change touches)
ENTITIES: list[tuple[str, Callable[..., Any], Callable[..., Any], dict[str, Any]]] = [
    ("guideline", _guideline, guideline_update, {"action": "Explain the refund policy"}),
    ("glossary_term", _term, glossary_term_update, {"description": "Points earned on every flight"}),
    ("canned_response", _canned, canned_response_update, {"template": "Hello there!"}),
    ("context_variable", _variable, context_variable_update, {"description": "The customer's loyalty tier"}),
]


@pytest.fixture
def alice(editor_user: Any) -> Actor:
    return studio_actor(editor_user)


@pytest.mark.parametrize(("kind", "make", "update", "change"), ENTITIES, ids=[entity[0] for entity in ENTITIES])
def test_an_edit_from_the_current_revision_is_saved_and_bumps_the_revision(
    agent: Agent, alice: Actor, kind: str, make: Callable[..., Any], update: Callable[..., Any], change: dict[str, Any]
) -> None:
    row = make(agent, alice)
    assert row.revision == 1
    update(_reload(row), data=change, actor=alice, revision=1)
    assert _reload(row).revision == 2


@pytest.mark.parametrize(("kind", "make", "update", "change"), ENTITIES, ids=[entity[0] for entity in ENTITIES])
def test_an_edit_from_a_stale_revision_is_refused_with_the_stored_values(
    agent: Agent, alice: Actor, kind: str, make: Callable[..., Any], update: Callable[..., Any], change: dict[str, Any]
) -> None:
    row = make(agent, alice)
    opened_by_bob = _reload(row)
    update(_reload(row), data=change, actor=alice, revision=1)  # Alice saves first

    with pytest.raises(StaleRevision) as refused:
        update(
            opened_by_bob,
            data=change | {field: f"Bob's {value}" for field, value in change.items()},
            actor=alice,
            revision=1,
        )

    field, alice_value = next(iter(change.items()))
    assert refused.value.status == 409
    assert refused.value.details["current"][field] == alice_value
    assert refused.value.details["current"]["revision"] == 2
    assert getattr(_reload(row), field) == alice_value  # Bob's write changed nothing


def test_an_edit_without_a_revision_is_the_api_s_last_write_wins(agent: Agent, alice: Actor) -> None:
    guideline = _guideline(agent, alice)
    guideline_update(_reload(guideline), data={"action": "First"}, actor=alice)
    guideline_update(_reload(guideline), data={"action": "Second"}, actor=alice)
    assert _reload(guideline).action == "Second" and _reload(guideline).revision == 3


def test_a_journey_state_edit_from_a_stale_revision_is_refused(agent: Agent, alice: Actor) -> None:
    state = make_journey(agent, "rebooking", states=("ask", "confirm")).states.get(key="ask")
    opened_at = state.revision
    journey_state_update(state, data={"action": "Ask for the booking code"}, actor=alice, revision=opened_at)
    with pytest.raises(StaleRevision):
        journey_state_update(_reload(state), data={"action": "Ask nicely"}, actor=alice, revision=opened_at)
    assert _reload(state).action == "Ask for the booking code"


def test_the_agent_settings_refuse_a_stale_revision(agent: Agent, alice: Actor) -> None:
    agent_update(agent, data={"name": "Skyway Care"}, actor=alice, revision=agent.revision)
    with pytest.raises(StaleRevision):
        agent_update(Agent.objects.get(pk=agent.pk), data={"name": "Skyway Help"}, actor=alice, revision=1)
    assert Agent.objects.get(pk=agent.pk).name == "Skyway Care"


def test_every_change_records_who_and_the_field_level_before_and_after(agent: Agent, alice: Actor) -> None:
    guideline = _guideline(agent, alice)
    guideline_update(_reload(guideline), data={"action": "Explain the policy"}, actor=alice)
    guideline_delete(_reload(guideline), actor=Actor(user=None, source="api"))

    created, updated, deleted = AuditEntry.objects.filter(entity_type="guideline").order_by("id")
    assert (created.action, created.username, created.source) == ("create", "editor", "studio")
    assert created.changes["condition"] == [None, "The customer asks for a refund"]
    assert updated.changes == {"action": ["Explain", "Explain the policy"]}
    assert (deleted.action, deleted.source, deleted.entity_label) == ("delete", "api", "refunds")
    assert {entry.agent_id for entry in (created, updated, deleted)} == {agent.pk}


def test_an_update_that_changes_nothing_records_nothing(agent: Agent, alice: Actor) -> None:
    guideline = _guideline(agent, alice)
    guideline_update(_reload(guideline), data={"action": "Explain"}, actor=alice)
    assert AuditEntry.objects.filter(entity_type="guideline").count() == 1


def test_every_change_moves_the_draft_revision_so_cached_reads_refresh(agent: Agent, alice: Actor) -> None:
    before = Agent.objects.get(pk=agent.pk).draft_revision
    guideline = _guideline(agent, alice)
    guideline_update(_reload(guideline), data={"action": "Explain the policy"}, actor=alice)
    assert Agent.objects.get(pk=agent.pk).draft_revision == before + 2


def test_saving_the_agent_object_never_overwrites_the_draft_revision(agent: Agent, alice: Actor) -> None:
    stale_copy = Agent.objects.get(pk=agent.pk)
    _guideline(agent, alice)
    stale_copy.description = "Changed through the model"
    stale_copy.save()
    assert Agent.objects.get(pk=agent.pk).draft_revision >= 1


def test_the_api_refuses_a_stale_revision_with_409_and_records_its_changes_as_api(agent: Agent) -> None:
    from tests.api_helpers import api_client, assert_error

    editor = api_client("editor")
    created = editor.post(
        "/guidelines", {"agent": agent.pk, "key": "refunds", "condition": "The customer asks for a refund"}
    ).json()
    assert created["revision"] == 1
    assert editor.patch(f"/guidelines/{created['id']}", {"action": "Explain", "revision": 1}).status_code == 200
    stale = editor.patch(f"/guidelines/{created['id']}", {"action": "Refuse", "revision": 1})
    error = assert_error(stale, 409, "stale_revision")
    assert error["details"]["current"]["action"] == "Explain"
    assert set(AuditEntry.objects.filter(entity_type="guideline").values_list("source", flat=True)) == {"api"}


def test_an_import_records_one_entry_with_what_it_changed(agent: Agent, alice: Actor) -> None:
    from behavior.services.exporting import agent_export_document
    from behavior.services.importing import agent_import_document

    _guideline(agent, alice)
    document = agent_export_document(agent)
    document["guidelines"][0]["action"] = "Explain the refund policy"
    before = AuditEntry.objects.count()
    agent_import_document(document, actor=Actor(user=alice.user, source="import"), replace_agent=agent)
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert len(entries) == 1
    assert entries[0].source == "import" and entries[0].agent_id == agent.pk
    assert "Explain the refund policy" in str(entries[0].changes)
