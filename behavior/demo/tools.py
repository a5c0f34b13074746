"""The Skyway demo agent's Python tools, working against the demo data set (behavior/demo/dataset.py).

Expected failures (unknown booking, full flight) are returned as data the agent can explain to the
customer, not raised: an exception means the tool itself is broken.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from agents.tools import ToolOutcome, tool
from behavior.demo import dataset

CHANGE_FEES_EUR = {"flex": 0, "standard": 50, "basic": 90}
MAX_TEXT = 500
_REFERENCE = re.compile(r"[A-Z0-9]{6}")
_FLIGHT_NUMBER = re.compile(r"SK\d{3}")


def _reference(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def _booking_or_reason(booking_reference: str) -> tuple[dict[str, Any] | None, str]:
    reference = _reference(booking_reference)
    if not _REFERENCE.fullmatch(reference):
        return None, "A booking reference has six letters or digits, for example SKY4F7."
    booking = dataset.booking_by_reference(reference)
    if booking is None:
        return None, f"There is no booking with reference {reference}."
    return booking, ""


@tool
def lookup_booking(booking_reference: str) -> ToolOutcome:
    """Look up a booking by its reference (passengers, fare, flights with their current status, checked bags).

    Args:
        booking_reference: The six-character booking reference, e.g. SKY4F7
    """
    booking, reason = _booking_or_reason(booking_reference)
    if booking is None:
        return ToolOutcome(data={"found": False, "booking_reference": _reference(booking_reference), "message": reason})
    customer = dataset.customer_by_id(booking["customer_id"]) or {}
    with dataset.overlay.lock:
        claims = [
            dict(claim)
            for (reference, _tag), claim in dataset.overlay.claims.items()
            if reference == booking["reference"]
        ]
    data = {
        "found": True,
        "booking_reference": booking["reference"],
        "customer": {
            "id": customer.get("id"),
            "name": customer.get("name"),
            "loyalty_tier": customer.get("loyalty_tier"),
        },
        "passengers": booking["passengers"],
        "fare": booking["fare"],
        "status": booking["status"],
        "flights": dataset.booking_segments(booking),
        "bags": booking["bags"],
        "claims": claims,
    }
    return ToolOutcome(
        data=data, canned_fields={"fare": booking["fare"].title(), "booking_reference": booking["reference"]}
    )


@tool
def flight_status(flight_number: str, date: date) -> dict[str, Any]:
    """The status of a Skyway flight on a date (scheduled and expected times, delay, gate, cancellation).

    Args:
        flight_number: The flight number, e.g. SK101
        date: The date of departure
    """
    number = _reference(flight_number)
    if not _FLIGHT_NUMBER.fullmatch(number) or dataset.scheduled_flight(number) is None:
        return {"found": False, "flight_number": number, "message": f"Skyway has no flight {number}."}
    flight = dataset.flight_on(number, date)
    return {"found": True, **(flight or {})}


@tool
def find_alternative_flights(origin: str, destination: str, date: date) -> dict[str, Any]:
    """Skyway flights between two airports on a date, with their times and whether seats are available.

    Args:
        origin: Departure airport code, e.g. LHR
        destination: Arrival airport code, e.g. CDG
        date: The travel date
    """
    origin, destination = _reference(origin), _reference(destination)
    if date < dataset.today():
        return {
            "origin": origin,
            "destination": destination,
            "date": date.isoformat(),
            "flights": [],
            "message": "That date is in the past.",
        }
    flights = []
    for scheduled in dataset.schedule():
        if scheduled["origin"] == origin and scheduled["destination"] == destination:
            flight = dataset.flight_on(scheduled["number"], date)
            if flight is not None:
                flights.append(flight)
    flights.sort(key=lambda flight: flight["scheduled_departure"])
    result: dict[str, Any] = {
        "origin": origin,
        "destination": destination,
        "date": date.isoformat(),
        "flights": flights,
    }
    if not flights:
        result["message"] = f"Skyway does not fly from {origin} to {destination}."
    return result


@tool(consequential=True)
def rebook_flight(
    booking_reference: str, current_flight_number: str, new_flight_number: str, new_date: date
) -> ToolOutcome:
    """Move one flight of a booking to another Skyway flight on the same route. Changes the booking and may charge a fee.

    Args:
        booking_reference: The six-character booking reference
        current_flight_number: The flight being replaced
        new_flight_number: The flight to move to
        new_date: The date of the new flight
    """

    def refused(reason: str) -> ToolOutcome:
        return ToolOutcome(data={"confirmed": False, "reason": reason})

    booking, reason = _booking_or_reason(booking_reference)
    if booking is None:
        return refused(reason)
    if booking["status"] != "confirmed":
        return refused(f"Booking {booking['reference']} is {booking['status']} and can no longer be changed.")
    current_number, new_number = _reference(current_flight_number), _reference(new_flight_number)
    segments = dataset.booking_segments(booking)
    index = next(
        (position for position, segment in enumerate(segments) if segment["flight_number"] == current_number), None
    )
    if index is None:
        return refused(f"Flight {current_number} is not part of booking {booking['reference']}.")
    current = segments[index]
    new_flight = dataset.flight_on(new_number, new_date)
    if new_flight is None:
        return refused(f"Skyway has no flight {new_number}.")
    if (new_flight["origin"], new_flight["destination"]) != (current["origin"], current["destination"]):
        return refused(
            f"{new_number} flies {new_flight['origin']}-{new_flight['destination']}, not "
            f"{current['origin']}-{current['destination']}; a rebooking keeps the route."
        )
    if new_date < dataset.today():
        return refused("The new date is in the past.")
    if new_flight["status"] == "cancelled" or new_flight["seats_available"] < len(booking["passengers"]):
        return refused(f"{new_number} on {new_date.isoformat()} has no seats available.")

    customer = dataset.customer_by_id(booking["customer_id"]) or {}
    fee_waived = current.get("status") == "cancelled" or customer.get("loyalty_tier") == "gold"
    fee = 0 if fee_waived else CHANGE_FEES_EUR[booking["fare"]] * len(booking["passengers"])
    with dataset.overlay.lock:
        dataset.overlay.rebookings[(booking["reference"], index)] = {
            "flight_number": new_number,
            "date": new_date.isoformat(),
        }
    data = {
        "confirmed": True,
        "booking_reference": booking["reference"],
        "replaced_flight": {"flight_number": current_number, "date": current["date"]},
        "new_flight": new_flight,
        "change_fee_eur": fee,
        "fee_waived": fee_waived,
        "fare_difference_eur": 0,
    }
    return ToolOutcome(
        data=data,
        canned_fields={
            "booking_reference": booking["reference"],
            "flight_number": new_number,
            "date": new_date.isoformat(),
        },
    )


@tool(consequential=True)
def file_baggage_claim(
    booking_reference: str,
    bag_tag: str,
    issue: Literal["missing", "delayed", "damaged"],
    description: str,
    delivery_address: str,
    contact_phone: str | None = None,
) -> ToolOutcome:
    """File a Property Irregularity Report (PIR) for a missing or damaged checked bag. Creates a claim the baggage team will act on.

    Args:
        booking_reference: The six-character booking reference
        bag_tag: The bag tag number from the baggage receipt
        issue: What happened to the bag
        description: Colour, brand, size and distinctive marks of the bag
        delivery_address: Where to deliver the bag once found
        contact_phone: A phone number for the courier
    """

    def refused(reason: str) -> ToolOutcome:
        return ToolOutcome(data={"filed": False, "reason": reason})

    booking, reason = _booking_or_reason(booking_reference)
    if booking is None:
        return refused(reason)
    tag = _reference(bag_tag)
    bag = next((entry for entry in booking["bags"] if entry["tag"] == tag), None)
    if bag is None:
        return refused(f"Bag tag {tag} is not on booking {booking['reference']}.")
    description, delivery_address = description.strip(), delivery_address.strip()
    if not description or not delivery_address:
        return refused("A claim needs a description of the bag and a delivery address.")
    if max(len(description), len(delivery_address), len(contact_phone or "")) > MAX_TEXT:
        return refused(f"Please keep the description, address and phone under {MAX_TEXT} characters each.")

    arrival_airport = dataset.booking_segments(booking)[-1].get("destination", "LHR")
    claim = {
        "filed": True,
        "claim_reference": dataset.claim_reference(booking["reference"], tag, arrival_airport),
        "booking_reference": booking["reference"],
        "bag_tag": tag,
        "issue": issue,
        "description": description,
        "delivery_address": delivery_address,
        "contact_phone": contact_phone,
        "last_seen": bag.get("last_seen"),
    }
    with dataset.overlay.lock:
        claim = dataset.overlay.claims.setdefault((booking["reference"], tag), claim)
    return ToolOutcome(
        data=claim,
        canned_fields={"claim_reference": claim["claim_reference"], "delivery_address": claim["delivery_address"]},
    )


@tool(timeout_seconds=5.0)
def travel_alerts() -> dict[str, Any]:
    """Current travel alerts and disruptions across the Skyway network."""
    return {"alerts": dataset.alerts()}
