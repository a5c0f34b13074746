"""Half-finished edits never break the draft: a journey with no states yet and a canned response with an unknown
field are left out of the sandbox's snapshot (the turn still runs), and the lint names both as errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from agents.models import Agent
from behavior.models import CannedResponse, Journey
from behavior.services.lint import agent_lint, lint_errors
from sessions.engine_bridge import session_snapshot
from sessions.models import Event, Session, Turn, TurnStatus
from sessions.services import customer_message_post
from tests.engine.fakes import ScriptedLLM
from tests.factories import make_guideline
from tests.support.realtime import realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _realtime(settings: Any) -> None:
    realtime_settings(settings)
    cache.clear()


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    llm = ScriptedLLM(applies=lambda key, request: True, reply="Your bag is on its way.")
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: llm)
    return llm


@pytest.fixture
def half_finished(agent: Agent) -> Agent:
    make_guideline(agent, "lost-bag", condition="The customer lost a bag", action="Apologise and offer to trace it")
    Journey.objects.create(agent=agent, key="rebooking", title="Rebook a flight")  # no states yet
    CannedResponse.objects.create(agent=agent, key="status", template="Your booking is {{ booking_status }}.")
    return agent


def test_a_draft_with_a_stateless_journey_and_an_unknown_canned_field_still_runs_a_sandbox_turn(
    half_finished: Agent, session: Session, model: ScriptedLLM
) -> None:
    assert session.version_id is None

    customer_message_post(session, text="I lost my bag")

    turn = Turn.objects.get(session=session)
    assert turn.status == TurnStatus.DONE, turn.error
    texts = [e.data.get("text") for e in Event.objects.filter(session=session, source="agent", kind="message")]
    assert "Your bag is on its way." in texts


def test_the_draft_snapshot_leaves_the_invalid_entities_out(half_finished: Agent, session: Session) -> None:
    snapshot, document = session_snapshot(session)
    assert [g.key for g in snapshot.guidelines] == ["lost-bag"]
    assert snapshot.journeys == () and snapshot.canned_responses == ()
    assert document["journeys"] == [] and document["canned_responses"] == []


def test_the_lint_names_both_invalid_entities_as_errors(half_finished: Agent) -> None:
    errors = {(f["entity"], f["ref"], f["code"]) for f in lint_errors(half_finished)}
    assert ("journey", "rebooking", "journey-empty") in errors
    assert ("canned_response", "status", "canned-unknown-field") in errors
    assert all(f["entity"] != "guideline" for f in agent_lint(half_finished) if f["severity"] == "error")
