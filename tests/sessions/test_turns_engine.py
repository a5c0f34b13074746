"""Turns through the real engine (behavior.engine.turn.run_turn) with a scripted model: the reply, the trace,
the version a session runs on, a failing or missing model, and a turn superseded while it waits on the model."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from agents.models import Agent
from behavior.engine.ports import LLMError
from behavior.services import version_publish
from behavior.services.audit import studio_actor
from sessions.models import Event, Session, Trace, Turn, TurnStatus
from sessions.services import customer_message_post
from sessions.services.turns import FALLBACK_REPLY, turn_execute
from tests.engine.fakes import ScriptedLLM
from tests.factories import make_guideline, make_session
from tests.support.realtime import realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _realtime(settings: Any) -> None:
    realtime_settings(settings)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The LLM every turn gets; tests swap `model["llm"]`."""
    holder: dict[str, Any] = {"llm": ScriptedLLM(applies=lambda key, request: True, reply="Your bag is on its way.")}
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: holder["llm"])
    return holder


def agent_events(session: Session) -> list[tuple[str, Any]]:
    rows = Event.objects.filter(session=session, source="agent").order_by("offset")
    return [(e.kind, e.data.get("status") if e.kind == "status" else e.data.get("text")) for e in rows]


def test_a_turn_replies_through_the_engine_and_stores_its_trace(
    agent: Agent, session: Session, model: dict[str, Any]
) -> None:
    make_guideline(agent, "lost-bag", condition="The customer lost a bag", action="Apologise and offer to trace it")

    customer_message_post(session, text="I lost my bag")

    turn = Turn.objects.get(session=session)
    assert turn.status == TurnStatus.DONE
    events = agent_events(session)
    assert ("message", "Your bag is on its way.") in events
    assert events[-1] == ("status", "ready")
    assert next(e for e in events if e[0] == "status") == ("status", "acknowledged")
    trace = Trace.objects.get(turn=turn).data
    assert trace["turn"]["outcome"] == "replied"
    verdicts = trace["matching"]["verdicts"]
    assert [(v["key"], v["applies"]) for v in verdicts] == [("lost-bag", True)]
    state = Session.objects.get(pk=session.pk).state
    assert [item["key"] for item in state["applied"]] == ["lost-bag"]


def test_a_session_on_a_published_version_ignores_later_draft_changes(
    agent: Agent, customer: Any, model: dict[str, Any], admin_user: Any
) -> None:
    make_guideline(agent, "greet", condition="The customer says hello", action="Greet them back")
    version = version_publish(agent, actor=studio_actor(admin_user))
    make_guideline(agent, "draft-only", condition="The customer says hello", action="Mention the new lounge")
    on_version = make_session(agent, customer, version=version)
    on_draft = make_session(agent, customer)

    customer_message_post(on_version, text="hello")
    customer_message_post(on_draft, text="hello")

    def matched(session: Session) -> list[str]:
        trace = Trace.objects.get(turn__session=session).data
        return sorted(v["key"] for v in trace["matching"]["verdicts"])

    assert matched(on_version) == ["greet"]
    assert matched(on_draft) == ["draft-only", "greet"]


def test_a_failing_model_gives_an_error_event_and_a_polite_reply_and_the_next_message_works(
    session: Session, model: dict[str, Any]
) -> None:
    model["llm"] = (
        ScriptedLLM()
        .on("single_pass", LLMError("the model server answered 503"))
        .on("composition", LLMError("the model server answered 503"))
    )

    customer_message_post(session, text="hello")

    turn = Turn.objects.get(session=session)
    assert turn.status == TurnStatus.FAILED
    error = Event.objects.get(session=session, kind="status", data__status="error")
    assert error.data["message"] == "the model server answered 503"
    events = agent_events(session)
    assert events[-2:] == [("message", FALLBACK_REPLY), ("status", "ready")]
    assert events.index(("status", "error")) < events.index(("message", FALLBACK_REPLY))
    assert len([e for e in events if e[0] == "message"]) == 1

    model["llm"] = ScriptedLLM(reply="Back in business.")
    customer_message_post(session, text="hello again")

    latest = Turn.objects.filter(session=session).latest("id")
    assert latest.status == TurnStatus.DONE
    assert agent_events(session)[-2:] == [("message", "Back in business."), ("status", "ready")]


def test_without_a_configured_model_the_error_event_says_so(session: Session, settings: Any) -> None:
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""

    customer_message_post(session, text="hello")

    error = Event.objects.get(session=session, kind="status", data__status="error")
    assert "No language model is configured" in error.data["message"]
    assert "OPENAI_API_KEY" in error.data["message"]
    assert Turn.objects.get(session=session).status == TurnStatus.FAILED
    assert agent_events(session)[-1] == ("status", "ready")


def test_a_turn_superseded_while_it_waits_on_the_model_emits_no_reply(
    session: Session, model: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", queued.append)
    customer_message_post(session, text="Book me to Rome")

    def newer_message_then_answer(request: Any, schema: Any) -> Any:
        # The customer writes again while the model is thinking (from another thread, like a web request).
        def write() -> None:
            try:
                customer_message_post(session, text="No, Paris")
            finally:
                connection.close()  # the thread's own connection (it would keep the test database open)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        return ScriptedLLM(reply="Rome it is.")._default(request, schema)

    model["llm"] = ScriptedLLM(reply="Rome it is.").on("single_pass", newer_message_then_answer)
    assert turn_execute(queued[0]) == TurnStatus.SUPERSEDED

    assert not Event.objects.filter(session=session, kind="message", source="agent").exists()
    assert Session.objects.get(pk=session.pk).state == {}

    model["llm"] = ScriptedLLM(reply="Paris it is.")
    assert turn_execute(queued[1]) == TurnStatus.DONE
    texts = [e.data.get("text") for e in Event.objects.filter(session=session, kind="message").order_by("offset")]
    assert texts == ["Book me to Rome", "No, Paris", "Paris it is."]
