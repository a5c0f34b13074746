"""Model validation of behavior entities: keys, journeys, canned responses, variables, immutable versions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.models import Agent
from behavior.models import (
    BehaviorVersion,
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Guideline,
    ImmutableRecordError,
    JourneyState,
    JourneyTransition,
    Tag,
)
from behavior.validation import journey_validate
from sessions.models import Customer
from tests.factories import make_guideline, make_journey, make_tag, make_tool, make_user

pytestmark = pytest.mark.django_db


def messages(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.messages)


# ---------------------------------------------------------------- keys and names


def test_it_rejects_a_guideline_key_that_is_not_a_slug(agent: Agent) -> None:
    guideline = Guideline(agent=agent, key="Refund Policy", condition="The customer asks for a refund")
    with pytest.raises(ValidationError) as excinfo:
        guideline.full_clean()
    assert "key" in excinfo.value.error_dict


def test_it_gives_a_clear_error_for_a_duplicate_guideline_key_but_allows_it_for_another_agent(
    agent: Agent, other_agent: Agent
) -> None:
    make_guideline(agent, "refund-policy")
    duplicate = Guideline(agent=agent, key="refund-policy", condition="Anything")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "refund-policy" in messages(excinfo)
    Guideline(agent=other_agent, key="refund-policy", condition="Anything").full_clean()


def test_it_requires_a_condition_and_stores_an_empty_action_as_an_observation(agent: Agent) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Guideline(agent=agent, key="empty", condition="   ").full_clean()
    assert "needs a condition" in messages(excinfo)
    observation = Guideline(agent=agent, key="wants-refund", condition="The customer wants a refund", action="  ")
    observation.full_clean()
    observation.save()
    observation.refresh_from_db()
    assert observation.action is None
    assert observation.is_observation


def test_it_rejects_labels_that_are_not_a_list_of_texts(agent: Agent) -> None:
    guideline = Guideline(agent=agent, key="labelled", condition="Always", labels=["ok", 3])
    with pytest.raises(ValidationError) as excinfo:
        guideline.full_clean()
    assert "labels" in excinfo.value.error_dict


def test_it_rejects_an_invalid_tool_name_and_a_duplicate_tool_name(agent: Agent) -> None:
    from agents.models import Tool

    with pytest.raises(ValidationError) as excinfo:
        Tool(agent=agent, name="Lookup-Booking").full_clean()
    assert "name" in excinfo.value.error_dict
    make_tool(agent, "lookup_booking")
    with pytest.raises(ValidationError) as excinfo:
        Tool(agent=agent, name="lookup_booking").full_clean()
    assert "already has a tool named 'lookup_booking'" in messages(excinfo)


def test_it_rejects_a_tag_name_with_spaces_and_keeps_tags_global() -> None:
    with pytest.raises(ValidationError):
        Tag(name="two words").full_clean()
    Tag(name="journey:rebooking").full_clean()
    make_tag("vip")
    with pytest.raises(ValidationError) as excinfo:
        Tag(name="vip").full_clean()
    assert "name" in excinfo.value.error_dict


def test_it_rejects_a_duplicate_glossary_term_and_malformed_synonyms(agent: Agent) -> None:
    GlossaryTerm.objects.create(agent=agent, name="PNR", description="Booking reference")
    with pytest.raises(ValidationError) as excinfo:
        GlossaryTerm(agent=agent, name="PNR", description="again").full_clean()
    assert "'PNR'" in messages(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        GlossaryTerm(agent=agent, name="Fare", description="x", synonyms="price").full_clean()
    assert "synonyms" in excinfo.value.error_dict


# ---------------------------------------------------------------- journeys


def test_a_well_formed_journey_has_no_errors_or_warnings(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask", "confirm", "done"])
    report = journey_validate(journey)
    assert report.ok
    assert report.errors == []
    assert report.warnings == []


def test_it_reports_a_journey_without_an_initial_state(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=[{"key": "ask", "initial": False}, "done"])
    report = journey_validate(journey)
    assert not report.ok
    assert report.errors == ["Journey 'rebooking' has no initial state."]


def test_it_reports_more_than_one_initial_state(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask", {"key": "other", "initial": True}])
    report = journey_validate(journey)
    assert report.errors == ["Journey 'rebooking' has more than one initial state: 'ask', 'other'."]


def test_it_reports_a_tool_state_without_a_tool(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask", {"key": "lookup", "kind": "tool"}])
    report = journey_validate(journey)
    assert report.errors == ["Tool state 'lookup' has no tool."]


def test_it_warns_about_unreachable_states_by_key(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask", "confirm", "orphan"], transitions=[("ask", "confirm")])
    report = journey_validate(journey)
    assert report.ok
    assert report.warnings == ["State 'orphan' is unreachable from the initial state."]


def test_it_reports_a_transition_referencing_a_state_of_another_journey(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask", "done"])
    other = make_journey(agent, "refund", states=["start"])
    foreign_state = other.states.get(key="start")
    # bypasses clean() on purpose: the report must catch rows written around it
    JourneyTransition.objects.create(journey=journey, source=journey.states.get(key="ask"), target=foreign_state)
    report = journey_validate(journey)
    assert report.errors == ["Transition 'ask' → 'start' references state 'start' of journey 'refund'."]


def test_clean_rejects_a_transition_between_states_of_different_journeys(agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask"])
    other = make_journey(agent, "refund", states=["start"])
    transition = JourneyTransition(journey=journey, source=journey.states.get(), target=other.states.get())
    with pytest.raises(ValidationError) as excinfo:
        transition.full_clean()
    assert excinfo.value.message_dict == {"target": ["State 'start' belongs to journey 'refund', not to this journey."]}


def test_clean_requires_a_tool_for_a_tool_state_from_the_same_agent(agent: Agent, other_agent: Agent) -> None:
    journey = make_journey(agent, "rebooking", states=["ask"])
    with pytest.raises(ValidationError) as excinfo:
        JourneyState(journey=journey, key="lookup", kind="tool").full_clean()
    assert "Tool state 'lookup' needs a tool." in messages(excinfo)
    foreign_tool = make_tool(other_agent, "lookup_booking")
    with pytest.raises(ValidationError) as excinfo:
        JourneyState(journey=journey, key="lookup", kind="tool", tool=foreign_tool).full_clean()
    assert "belongs to another agent" in messages(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        JourneyState(journey=journey, key="ask", kind="chat").full_clean()
    assert "already has a state 'ask'" in messages(excinfo)


# ---------------------------------------------------------------- canned responses


def test_it_accepts_a_canned_response_using_builtin_and_declared_fields(agent: Agent) -> None:
    canned = CannedResponse(
        agent=agent,
        key="status",
        template="Hi {{ customer.name }}, your booking is {{ booking_status }}.",
        fields=[{"name": "booking_status", "kind": "tool", "description": "from lookup_booking"}],
        signals=["what is my status"],
    )
    canned.full_clean()
    canned.save()
    assert canned.field_names == ["booking_status"]


def test_it_rejects_and_names_an_unknown_template_field(agent: Agent) -> None:
    canned = CannedResponse(agent=agent, key="status", template="Your booking is {{ booking_status }}.")
    with pytest.raises(ValidationError) as excinfo:
        canned.full_clean()
    assert "template" in excinfo.value.error_dict
    assert "{{ booking_status }}" in messages(excinfo)


def test_it_rejects_malformed_template_braces(agent: Agent) -> None:
    canned = CannedResponse(agent=agent, key="status", template="Hello {{ customer.name }")
    with pytest.raises(ValidationError) as excinfo:
        canned.full_clean()
    assert "Unclosed '{{'" in messages(excinfo)


def test_it_rejects_a_field_declaration_with_an_unknown_kind(agent: Agent) -> None:
    canned = CannedResponse(
        agent=agent, key="status", template="{{ x }}", fields=[{"name": "x", "kind": "magic", "description": ""}]
    )
    with pytest.raises(ValidationError) as excinfo:
        canned.full_clean()
    assert "Field 'x' has kind 'magic'" in messages(excinfo)


# ---------------------------------------------------------------- context variables


def test_context_variable_values_are_unique_per_scope_key(agent: Agent) -> None:
    variable = ContextVariable.objects.create(agent=agent, name="loyalty_tier")
    vip = make_tag("vip")
    customer = Customer.objects.create(name="Ada")
    ContextVariableValue.objects.create(variable=variable, scope="default", value="standard")
    ContextVariableValue.objects.create(variable=variable, scope="customer_tag", tag=vip, value="gold")
    ContextVariableValue.objects.create(variable=variable, scope="customer", customer=customer, value="platinum")
    with pytest.raises(ValidationError) as excinfo:
        ContextVariableValue(variable=variable, scope="customer_tag", tag=vip, value="silver").full_clean()
    assert "already has a customer_tag value" in messages(excinfo)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContextVariableValue.objects.create(variable=variable, scope="default", value="again")
    assert variable.values.count() == 3


def test_a_context_variable_value_must_match_its_scope(agent: Agent) -> None:
    variable = ContextVariable.objects.create(agent=agent, name="loyalty_tier")
    with pytest.raises(ValidationError) as excinfo:
        ContextVariableValue(variable=variable, scope="customer_tag", value="gold").full_clean()
    assert "needs a tag" in messages(excinfo)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContextVariableValue.objects.create(variable=variable, scope="customer", value="gold")


def test_a_context_variable_rejects_a_tool_of_another_agent(agent: Agent, other_agent: Agent) -> None:
    variable = ContextVariable(agent=agent, name="tier", tool=make_tool(other_agent, "tier_lookup"))
    with pytest.raises(ValidationError) as excinfo:
        variable.full_clean()
    assert "'tier_lookup' belongs to another agent" in messages(excinfo)


# ---------------------------------------------------------------- versions


def test_a_behavior_version_cannot_be_changed_once_saved(agent: Agent) -> None:
    author = make_user("author", "editor")
    version = BehaviorVersion.objects.create(
        agent=agent, number=1, document={"format": "decorum.behavior"}, author=author
    )
    version.note = "changed"
    with pytest.raises(ImmutableRecordError):
        version.save()
    with pytest.raises(ImmutableRecordError):
        BehaviorVersion.objects.filter(pk=version.pk).update(note="changed")
    version.refresh_from_db()
    assert version.note == ""


def test_deleting_the_author_keeps_the_version(agent: Agent) -> None:
    author = make_user("author", "editor")
    version = BehaviorVersion.objects.create(agent=agent, number=1, document={}, author=author)
    author.delete()
    version.refresh_from_db()
    assert version.author is None


def test_version_numbers_are_unique_per_agent(agent: Agent, other_agent: Agent) -> None:
    BehaviorVersion.objects.create(agent=agent, number=1, document={})
    BehaviorVersion.objects.create(agent=other_agent, number=1, document={})
    with pytest.raises(IntegrityError), transaction.atomic():
        BehaviorVersion.objects.create(agent=agent, number=1, document={})
