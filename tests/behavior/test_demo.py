"""The Skyway demo: its document meets the brief, its tools match their declarations and work on the data set."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from agents.tools import ToolContext, registered_tool
from behavior.demo import dataset
from behavior.demo.seeding import demo_seed
from behavior.demo.tools import (
    file_baggage_claim,
    find_alternative_flights,
    flight_status,
    lookup_booking,
    rebook_flight,
    travel_alerts,
)
from behavior.documents import document_validate, document_warnings
from behavior.models import BehaviorVersion
from sessions.models import Customer


@pytest.fixture(autouse=True)
def fresh_overlay() -> Any:
    dataset.overlay_reset()
    yield
    dataset.overlay_reset()


def test_the_demo_document_has_the_promised_content(demo_document: dict[str, Any]) -> None:
    document = document_validate(demo_document)

    observations = [guideline for guideline in document.guidelines if guideline.action is None]
    kinds = Counter(relationship.kind for relationship in document.relationships)
    assert len(document.guidelines) >= 15
    assert len(observations) >= 3
    assert len(document.relationships) >= 5 and len(kinds) >= 5
    assert len(document.journeys) == 2
    for journey in document.journeys:
        kinds_of_states = {state.kind for state in journey.states}
        assert len(journey.states) >= 5
        assert {"chat", "tool", "fork", "end"} <= kinds_of_states
    assert len(document.glossary) >= 8 and all(term.synonyms for term in document.glossary)
    assert len(document.canned_responses) >= 5 and any(response.fields for response in document.canned_responses)
    assert len(document.context_variables) == 2
    assert any(value.scope == "customer_tag" for value in document.context_variables[0].values)
    assert any(variable.tool and variable.freshness_seconds for variable in document.context_variables)
    assert any(tool.consequential for tool in document.tools)
    assert document_warnings(document) == []


def test_every_demo_tool_entry_is_the_registered_tools_own_definition(demo_document: dict[str, Any]) -> None:
    for entry in demo_document["tools"]:
        assert registered_tool(entry["name"]).definition.to_document() == entry


def test_the_data_files_are_valid_json_and_consistent() -> None:
    bookings = json.loads((dataset.DATA_DIR / "bookings.json").read_text())
    customer_ids = {customer["id"] for customer in dataset.customers()}
    flight_numbers = {flight["number"] for flight in dataset.schedule()}

    for booking in bookings:
        assert booking["customer_id"] in customer_ids
        assert {segment["flight_number"] for segment in booking["segments"]} <= flight_numbers


def test_lookup_booking_returns_the_booking_with_live_flight_status() -> None:
    outcome = lookup_booking(" sky4f7 ")

    assert outcome.data["found"] is True
    assert outcome.data["customer"]["loyalty_tier"] == "gold"
    flight = outcome.data["flights"][0]
    assert flight["flight_number"] == "SK101"
    assert flight["date"] == dataset.day(1).isoformat()
    assert (flight["status"], flight["delay_minutes"]) == ("delayed", 210)
    assert outcome.canned_fields == {"fare": "Flex", "booking_reference": "SKY4F7"}


@pytest.mark.parametrize(
    ("reference", "message"),
    [("ZZZZZZ", "There is no booking with reference ZZZZZZ."), ("12", "A booking reference has six letters or digits")],
)
def test_lookup_booking_explains_an_unknown_or_malformed_reference(reference: str, message: str) -> None:
    outcome = lookup_booking(reference)

    assert outcome.data["found"] is False
    assert outcome.data["message"].startswith(message)


def test_flight_status_reports_disruptions_relative_to_today() -> None:
    cancelled = flight_status("SK201", dataset.day(2))
    normal = flight_status("SK201", dataset.day(3))

    assert (cancelled["status"], cancelled["seats_available"]) == ("cancelled", 0)
    assert normal["status"] == "on_time"
    assert flight_status("SK999", dataset.today())["found"] is False


def test_find_alternative_flights_lists_the_route_by_departure_time() -> None:
    result = find_alternative_flights("LHR", "CDG", dataset.day(2))

    assert [flight["flight_number"] for flight in result["flights"]] == ["SK201", "SK203", "SK205"]
    assert find_alternative_flights("LHR", "SYD", dataset.day(2))["flights"] == []
    assert find_alternative_flights("LHR", "CDG", dataset.day(-1))["message"] == "That date is in the past."


def test_rebooking_a_cancelled_flight_is_free_and_visible_in_later_lookups_without_touching_the_files() -> None:
    before = (dataset.DATA_DIR / "bookings.json").read_bytes()

    outcome = rebook_flight("QX82LM", "SK201", "SK203", dataset.day(2))

    assert outcome.data["confirmed"] is True
    assert outcome.data["change_fee_eur"] == 0 and outcome.data["fee_waived"] is True
    assert outcome.canned_fields["flight_number"] == "SK203"
    assert lookup_booking("QX82LM").data["flights"][0]["flight_number"] == "SK203"
    assert (dataset.DATA_DIR / "bookings.json").read_bytes() == before


def test_rebooking_charges_the_fare_change_fee_per_passenger() -> None:
    outcome = rebook_flight("QX82LM", "SK202", "SK202", dataset.day(7))

    assert outcome.data["confirmed"] is True
    assert outcome.data["change_fee_eur"] == 100  # Standard fare, two passengers


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (("QX82LM", "SK201", "SK101", 2), "a rebooking keeps the route"),
        (("QX82LM", "SK301", "SK303", 2), "is not part of booking"),
        (("QX82LM", "SK201", "SK205", 2), "has no seats available"),
        (("M3BAG9", "SK401", "SK403", 1), "is flown and can no longer be changed"),
        (("B7TR9Z", "SK301", "SK303", -2), "The new date is in the past."),
    ],
)
def test_rebooking_refuses_impossible_changes(arguments: tuple[str, str, str, int], reason: str) -> None:
    reference, current, new, offset = arguments

    outcome = rebook_flight(reference, current, new, dataset.today() + timedelta(days=offset))

    assert outcome.data["confirmed"] is False
    assert reason in outcome.data["reason"]
    assert dataset.overlay.rebookings == {}


def test_filing_a_baggage_claim_twice_returns_the_same_reference() -> None:
    first = file_baggage_claim("M3BAG9", "sk 778812", "missing", "Black hard-shell suitcase", "1 High St, London")
    second = file_baggage_claim("M3BAG9", "SK778812", "missing", "Black suitcase", "1 High St, London")

    assert first.data["filed"] is True
    assert first.data["claim_reference"].startswith("PIR-LHR-")
    assert second.data["claim_reference"] == first.data["claim_reference"]
    assert first.canned_fields == {
        "claim_reference": first.data["claim_reference"],
        "delivery_address": "1 High St, London",
    }
    assert lookup_booking("M3BAG9").data["claims"][0]["claim_reference"] == first.data["claim_reference"]


def test_a_baggage_claim_for_a_bag_not_on_the_booking_is_refused() -> None:
    outcome = file_baggage_claim("M3BAG9", "SK000000", "missing", "Red bag", "1 High St")

    assert outcome.data == {"filed": False, "reason": "Bag tag SK000000 is not on booking M3BAG9."}


def test_travel_alerts_lists_only_current_and_upcoming_alerts() -> None:
    alerts = travel_alerts()["alerts"]

    assert {alert["region"] for alert in alerts} == {"France", "London Heathrow"}
    assert all(alert["date"] >= dataset.today().isoformat() for alert in alerts)


async def test_the_registry_coerces_model_arguments_for_the_demo_tools() -> None:
    registered = registered_tool("flight_status")
    context = ToolContext(session_id="s", customer_id=None, tool_name="flight_status")

    result = await registered.invoke({"flight_number": "sk201", "date": dataset.day(2).isoformat()}, context=context)

    assert result["status"] == "cancelled"


@pytest.mark.django_db
def test_seeding_creates_the_agent_its_customers_and_version_1_once() -> None:
    agent, version = demo_seed()
    again, no_version = demo_seed()

    assert version is not None and version.number == 1
    assert agent.published_version == version
    assert again.pk == agent.pk and no_version is None
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1
    maria = Customer.objects.get(external_id="CUST-1001")
    assert maria.name == "Maria Lopez"
    assert [tag.name for tag in maria.tags.all()] == ["vip"]
    assert Customer.objects.filter(external_id__in=["CUST-1001", "CUST-1002"]).count() == 2


@pytest.mark.django_db
def test_forced_seeding_reloads_the_draft_and_publishes_a_new_version() -> None:
    agent, _ = demo_seed()
    agent.guidelines.filter(key="greet").delete()

    reloaded, version = demo_seed(force=True)

    assert reloaded.pk == agent.pk
    assert version is not None and version.number == 2
    assert agent.guidelines.filter(key="greet").exists()
    assert Customer.objects.filter(external_id="CUST-1001").count() == 1
