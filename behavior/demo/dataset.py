"""The Skyway demo data set (behavior/demo/data/*.json), read-only, with dates relative to today.

The JSON files are never written. Rebookings and baggage claims made through the demo tools live in an
in-memory overlay of this process, so the demo behaves consistently within a run and resets on restart.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.cache
def _load(name: str) -> Any:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def customers() -> list[dict[str, Any]]:
    return list(_load("customers"))


def customer_by_id(customer_id: str) -> dict[str, Any] | None:
    return next((entry for entry in _load("customers") if entry["id"] == customer_id), None)


def bookings() -> list[dict[str, Any]]:
    return list(_load("bookings"))


def booking_by_reference(reference: str) -> dict[str, Any] | None:
    return next((entry for entry in _load("bookings") if entry["reference"] == reference), None)


def schedule() -> list[dict[str, Any]]:
    return list(_load("flights")["flights"])


def scheduled_flight(flight_number: str) -> dict[str, Any] | None:
    return next((entry for entry in _load("flights")["flights"] if entry["number"] == flight_number), None)


def today() -> date:
    return timezone.localdate()


def day(offset: int) -> date:
    return today() + timedelta(days=offset)


def flight_on(flight_number: str, on: date) -> dict[str, Any] | None:
    """The flight's operational status on a date: scheduled data plus any disruption of that day."""
    flight = scheduled_flight(flight_number)
    if flight is None:
        return None
    offset = (on - today()).days
    disruption = next(
        (
            entry
            for entry in _load("flights")["disruptions"]
            if entry["flight_number"] == flight_number and entry["day_offset"] == offset
        ),
        None,
    )
    if disruption is not None:
        status, delay, gate, reason = (
            disruption["status"],
            disruption["delay_minutes"],
            disruption["gate"],
            disruption["reason"],
        )
    else:
        status, delay, gate, reason = ("landed" if offset < 0 else "on_time"), 0, None, None
    return {
        "flight_number": flight["number"],
        "date": on.isoformat(),
        "origin": flight["origin"],
        "destination": flight["destination"],
        "scheduled_departure": flight["departure"],
        "scheduled_arrival": flight["arrival"],
        "status": status,
        "delay_minutes": delay,
        "gate": gate,
        "reason": reason,
        "aircraft": flight["aircraft"],
        "seats_available": 0 if status == "cancelled" else flight["seats_available"],
    }


def alerts(*, days_ahead: int = 7) -> list[dict[str, Any]]:
    return [
        {"date": day(entry["day_offset"]).isoformat(), "region": entry["region"], "message": entry["message"]}
        for entry in _load("flights")["alerts"]
        if 0 <= entry["day_offset"] <= days_ahead
    ]


@dataclass
class _Overlay:
    """Changes made by the demo tools in this process: never written back to the data files."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # (booking reference, segment index) -> {"flight_number": ..., "date": ...}
    rebookings: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    # (booking reference, bag tag) -> claim
    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


overlay = _Overlay()


def overlay_reset() -> None:
    """Forget every rebooking and claim made in this process (tests use it)."""
    with overlay.lock:
        overlay.rebookings.clear()
        overlay.claims.clear()


def booking_segments(booking: dict[str, Any]) -> list[dict[str, Any]]:
    """The booking's flights on real dates, with rebookings applied and their live status."""
    segments = []
    for index, segment in enumerate(booking["segments"]):
        with overlay.lock:
            moved = overlay.rebookings.get((booking["reference"], index))
        flight_number = moved["flight_number"] if moved else segment["flight_number"]
        on = date.fromisoformat(moved["date"]) if moved else day(segment["day_offset"])
        flight = flight_on(flight_number, on) or {"flight_number": flight_number, "date": on.isoformat()}
        segments.append({**flight, "seat": segment["seat"], "cabin": segment["cabin"], "rebooked": moved is not None})
    return segments


def claim_reference(booking_reference: str, bag_tag: str, airport: str) -> str:
    """A stable PIR reference: the same bag on the same booking always gets the same number."""
    digest = hashlib.sha256(f"{booking_reference}:{bag_tag}".encode()).hexdigest()
    return f"PIR-{airport}-{int(digest[:8], 16) % 90000 + 10000}"
