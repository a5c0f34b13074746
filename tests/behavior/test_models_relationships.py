"""Relationship validation against the agent's model: kinds, self-loops, agents, duplicates and cycles."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.models import Agent
from behavior.models import Relationship
from behavior.validation import relationship_validate
from tests.factories import make_guideline, make_journey, make_tag, make_tool

pytestmark = pytest.mark.django_db


def relationship(agent: Agent, kind: str, source: Any, target: Any) -> Relationship:
    """An unsaved relationship between two objects, endpoint types taken from their class."""
    fields: dict[str, Any] = {"agent": agent, "kind": kind}
    for side, endpoint in (("source", source), ("target", target)):
        endpoint_type = type(endpoint).__name__.lower()
        fields[f"{side}_type"] = endpoint_type
        fields[f"{side}_{endpoint_type}"] = endpoint
    return Relationship(**fields)


def save(rel: Relationship) -> Relationship:
    rel.full_clean()
    rel.save()
    return rel


def error_text(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.messages)


def test_it_saves_a_valid_overrides_relationship_and_describes_it(agent: Agent) -> None:
    vip = make_guideline(agent, "vip-refund")
    refund = make_guideline(agent, "refund-policy")
    rel = save(relationship(agent, "overrides", vip, refund))
    assert Relationship.objects.get(pk=rel.pk).source_guideline == vip
    assert str(rel) == "guideline:vip-refund overrides guideline:refund-policy"
    assert rel.endpoint_ref("target") == "refund-policy"


def test_it_rejects_a_self_loop_relationship(agent: Agent) -> None:
    guideline = make_guideline(agent, "refund-a")
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "entails", guideline, guideline))
    assert "cannot link refund-a to itself" in error_text(excinfo)


def test_it_rejects_a_kind_illegal_for_the_endpoint_types(agent: Agent) -> None:
    guideline = make_guideline(agent, "refund-a")
    tool = make_tool(agent, "lookup_booking")
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "entails", guideline, tool))
    assert "needs a guideline as target, not a tool" in error_text(excinfo)
    assert excinfo.value.error_dict.keys() == {"kind"}


def test_it_rejects_disambiguates_from_a_guideline_with_an_action(agent: Agent) -> None:
    actionable = make_guideline(agent, "greets", action="Say hello")
    target = make_guideline(agent, "target")
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "disambiguates", actionable, target))
    assert "observation" in error_text(excinfo)
    assert "'greets' has an action" in error_text(excinfo)


def test_it_accepts_disambiguates_from_an_observation_to_a_journey(agent: Agent) -> None:
    observation = make_guideline(agent, "wants-change", action=None)
    journey = make_journey(agent, "rebooking")
    rel = save(relationship(agent, "disambiguates", observation, journey))
    assert rel.pk is not None


def test_it_accepts_reevaluate_after_and_tools_overlap(agent: Agent) -> None:
    guideline = make_guideline(agent)
    lookup, search = make_tool(agent, "lookup"), make_tool(agent, "search")
    save(relationship(agent, "reevaluate_after", guideline, lookup))
    save(relationship(agent, "tools_overlap", lookup, search))
    assert Relationship.objects.filter(agent=agent).count() == 2


def test_it_rejects_an_endpoint_of_another_agent_but_accepts_global_tags(agent: Agent, other_agent: Agent) -> None:
    mine = make_guideline(agent, "mine")
    theirs = make_guideline(other_agent, "theirs")
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "entails", mine, theirs))
    assert "'theirs' belongs to another agent" in error_text(excinfo)
    assert save(relationship(agent, "overrides", make_tag("vip"), mine)).pk is not None


def test_it_rejects_a_duplicate_relationship(agent: Agent) -> None:
    first, second = make_guideline(agent, "first"), make_guideline(agent, "second")
    save(relationship(agent, "entails", first, second))
    with pytest.raises(ValidationError) as excinfo:
        save(relationship(agent, "entails", first, second))
    assert "already has guideline 'first' entails guideline 'second'" in error_text(excinfo)


def test_it_rejects_an_overrides_cycle_and_names_it(agent: Agent) -> None:
    refund_a, refund_b = make_guideline(agent, "refund-a"), make_guideline(agent, "refund-b")
    save(relationship(agent, "overrides", refund_a, refund_b))
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "overrides", refund_b, refund_a))
    assert "overrides cycle: refund-a → refund-b → refund-a" in error_text(excinfo) or (
        "overrides cycle: refund-b → refund-a → refund-b" in error_text(excinfo)
    )


def test_it_rejects_a_dependency_cycle_mixing_depends_on_and_depends_on_any(agent: Agent) -> None:
    a, b, c = make_guideline(agent, "a"), make_guideline(agent, "b"), make_guideline(agent, "c")
    save(relationship(agent, "depends_on", a, b))
    save(relationship(agent, "depends_on_any", b, c))
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "depends_on", c, a))
    assert "depends_on cycle:" in error_text(excinfo)
    assert {"a", "b", "c"} <= set(error_text(excinfo).split("cycle: ")[1].split(" → "))


def test_it_ignores_edges_of_other_kinds_and_other_agents_when_looking_for_cycles(
    agent: Agent, other_agent: Agent
) -> None:
    a, b = make_guideline(agent, "a"), make_guideline(agent, "b")
    save(relationship(agent, "entails", a, b))
    other_a, other_b = make_guideline(other_agent, "a"), make_guideline(other_agent, "b")
    save(relationship(other_agent, "overrides", other_a, other_b))
    assert save(relationship(agent, "overrides", b, a)).pk is not None


def test_it_finds_an_overrides_cycle_through_a_tag_and_its_members(agent: Agent) -> None:
    vip = make_tag("vip")
    member = make_guideline(agent, "vip-discount", tags=[vip])
    outsider = make_guideline(agent, "standard-price")
    save(relationship(agent, "overrides", vip, outsider))
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(relationship(agent, "overrides", outsider, member))
    assert "overrides cycle:" in error_text(excinfo)
    assert "vip-discount" in error_text(excinfo)


def test_the_database_rejects_an_endpoint_that_does_not_match_its_type(agent: Agent) -> None:
    guideline = make_guideline(agent)
    rel = Relationship(
        agent=agent,
        kind="entails",
        source_type="tag",
        source_guideline=guideline,
        target_type="guideline",
        target_guideline=guideline,
    )
    with pytest.raises(ValidationError) as excinfo:
        relationship_validate(rel)
    assert "choose which one" in error_text(excinfo) or "leave" in error_text(excinfo)
    with pytest.raises(IntegrityError), transaction.atomic():
        rel.save()
