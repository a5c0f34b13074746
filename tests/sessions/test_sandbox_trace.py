"""The explainability panel: a real engine trace rendered as the partial, with editor links and every section."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.engine.trace import (
    JourneyMove,
    LLMCallTrace,
    RelationshipDecision,
    StageTiming,
    ToolCallTrace,
    TurnTrace,
    VerdictTrace,
)
from behavior.models import BehaviorVersion
from sessions.models import Session, Trace, Turn
from sessions.services import event_append
from tests.factories import make_guideline, make_session

pytestmark = pytest.mark.django_db


def _make(cls: type[Any], **given: Any) -> Any:
    """An instance of a trace dataclass; fields the test does not care about get neutral values, so a field
    added to the trace format later does not break this test."""
    neutral = {"str": "", "int": 0, "float": 0.0, "bool": False, "list": [], "dict": {}}
    values = {}
    for item in dataclasses.fields(cls):
        if item.name in given:
            values[item.name] = given[item.name]
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            kind = str(item.type)
            values[item.name] = None if "None" in kind else neutral.get(kind.split("[")[0], None)
    return cls(**values)


def _llm_call(purpose: str, prompt: int, completion: int, latency: float) -> LLMCallTrace:
    return _make(
        LLMCallTrace,
        purpose=purpose,
        model="gpt-4o-mini",
        prompt_tokens=prompt,
        completion_tokens=completion,
        latency_ms=latency,
        hop=1,
        critical=True,
    )


def _verdict(key: str, applies: bool, rationale: str, score: float) -> VerdictTrace:
    return _make(VerdictTrace, key=key, applies=applies, facts=f"facts about {key}", rationale=rationale, score=score)


def _trace() -> dict[str, Any]:
    trace = TurnTrace(session_id="s", customer_offset=1, started_at="2025-01-01T00:00:00Z", outcome="replied")
    trace.strategy = "two_pass"
    trace.strategy_reason = "a tool is in play"
    trace.hops = 2
    trace.timings = {
        "wall_ms": 1200.0,
        "llm_wait_ms": 1100.0,
        "tool_wait_ms": 40.0,
        "embed_wait_ms": 5.0,
        "overhead_ms": 55.0,
    }
    trace.stages = [
        _make(StageTiming, name="retrieval", started_ms=0.0, duration_ms=12.0),
        _make(StageTiming, name="matching", started_ms=12.0, duration_ms=600.0),
        _make(StageTiming, name="composition", started_ms=650.0, duration_ms=540.0),
    ]
    trace.glossary = [{"name": "PIR", "score": 0.81, "reason": "similar"}]
    trace.verdicts = [
        _verdict("lost-bag", True, "The customer says the suitcase is missing", 0.93),
        _verdict("refund-policy", True, "The customer asks about money back", 0.55),
        _verdict("greeting", False, "Not the first message", 0.10),
    ]
    trace.decisions = [
        _make(
            RelationshipDecision,
            guideline="refund-policy",
            action="dropped",
            reason="overridden by lost-bag",
            kind="overrides",
            by="lost-bag",
        ),
    ]
    trace.active = ["lost-bag"]
    trace.moves = [
        _make(
            JourneyMove,
            journey="baggage-claim",
            move="enter",
            from_state=None,
            to_state="ask-reference",
            valid=True,
            reason="the trigger holds",
        )
    ]
    trace.tool_calls = [
        _make(
            ToolCallTrace,
            tool="find_booking",
            source="guideline",
            arguments={"reference": "SKY123"},
            valid=True,
            status="ok",
            result={"flight": "SK100"},
            duration_ms=120.5,
        ),
        _make(
            ToolCallTrace,
            tool="file_claim",
            source="journey",
            arguments={},
            valid=False,
            status="invalid",
            error="missing reference",
            missing=["reference"],
        ),
    ]
    trace.composition = {
        "mode": "composited",
        "method": "canned",
        "canned_chosen": "baggage-claim-filed",
        "draft": "I have filed the claim, reference PIR-1.",
    }
    trace.llm_calls = [_llm_call("matching", 900, 120, 600.0), _llm_call("composition", 1400, 80, 540.0)]
    return trace.to_dict()


@pytest.fixture
def traced(agent: Agent, tester_user: Any) -> tuple[Session, Turn]:
    session = make_session(agent, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "My suitcase is lost"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    event_append(session, kind="message", source="agent", data={"text": "Sorry!", "message_id": "m1"}, turn=turn)
    Trace.objects.create(turn=turn, data=_trace())
    return session, turn


def _panel(client: Client, session: Session, turn: Turn) -> str:
    url = reverse("sandbox:trace", kwargs={"uid": session.uid, "turn_id": turn.pk})
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": "panel"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_matched_guidelines_with_rationale_score_and_editor_link(
    client: Client, tester_user: Any, agent: Agent, traced: tuple[Session, Turn]
) -> None:
    guideline = make_guideline(agent, "lost-bag", condition="The customer's bag did not arrive", action="Open a claim")
    client.force_login(tester_user)
    html = _panel(client, *traced)
    assert "The customer says the suitcase is missing" in html
    assert "0.93" in html
    assert reverse("studio:guideline-detail", kwargs={"agent_id": agent.pk, "guideline_id": guideline.pk}) in html
    assert "The customer&#x27;s bag did not arrive" in html  # the guideline's text, escaped
    assert "Open a claim" in html
    assert "Not the first message" in html  # considered, its condition did not hold


def _section(html: str, heading: str) -> str:
    """The part of the panel from a sub-heading to the next sub-heading or section."""
    start = html.index(heading)
    ends = [i for i in (html.find("<h4>", start + 1), html.find("<section", start + 1)) if i != -1]
    return html[start : min(ends)]


def test_a_guideline_whose_condition_held_but_resolution_dropped_is_not_listed_as_active(
    client: Client, tester_user: Any, traced: tuple[Session, Turn]
) -> None:
    client.force_login(tester_user)
    html = _panel(client, *traced)
    active = _section(html, "Active after resolution")
    dropped = _section(html, "Condition held, dropped by resolution")
    assert 'data-key="lost-bag"' in active and 'data-key="refund-policy"' not in active
    assert 'data-key="refund-policy"' in dropped
    assert "Condition held" in dropped and "Dropped: overridden by lost-bag" in dropped
    assert "Matched guidelines" not in html and "not active after resolution" not in html


def test_the_panel_shows_matched_resolved_and_applied_as_distinct_labelled_outcomes(
    client: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "My suitcase is lost"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    data = _trace()
    data["resolution"]["active"] = ["lost-bag", "file-claim"]
    data["resolution"]["decisions"].append(
        {
            "guideline": "file-claim",
            "action": "added",
            "reason": "entailed by lost-bag",
            "kind": "entails",
            "by": "lost-bag",
        }
    )
    data["analysis"] = {"method": "llm", "applied": ["lost-bag"], "not_applied": ["file-claim"]}
    Trace.objects.create(turn=turn, data=data)
    client.force_login(tester_user)
    html = _panel(client, session, turn)
    assert "<strong>2</strong> conditions held" in html
    assert "<strong>2</strong> active after relationships" in html
    assert "<strong>1</strong> applied in the reply" in html
    active = _section(html, "Active after resolution")
    lost_bag = active[active.index('data-key="lost-bag"') : active.index('data-key="file-claim"')]
    file_claim = active[active.index('data-key="file-claim"') :]
    assert "Condition held" in lost_bag and "Active" in lost_bag and "Applied in the reply" in lost_bag
    assert "Condition not judged" in file_claim and "Added: entailed by lost-bag" in file_claim
    assert "Not applied in the reply" in file_claim


def test_the_panel_shows_journeys_glossary_tools_canned_llm_calls_timings_and_token_total(
    client: Client, tester_user: Any, traced: tuple[Session, Turn]
) -> None:
    client.force_login(tester_user)
    html = _panel(client, *traced)
    assert "baggage-claim" in html and "ask-reference" in html
    assert "PIR" in html
    assert "find_booking" in html and "SKY123" in html and "SK100" in html and "120 ms" in html
    assert "missing reference" in html
    assert "baggage-claim-filed" in html and "I have filed the claim, reference PIR-1." in html
    assert "matching" in html and "composition" in html and "gpt-4o-mini" in html
    assert 'class="token-total">2500' in html  # 900+120+1400+80
    assert "retrieval" in html and "600 ms" in html
    assert "1.20 s" in html  # wall time


def test_a_guideline_missing_from_the_draft_has_no_editor_link_and_version_texts_come_from_the_version(
    client: Client, tester_user: Any, agent: Agent
) -> None:
    version = BehaviorVersion.objects.create(
        agent=agent,
        number=1,
        document={
            "guidelines": [
                {"key": "lost-bag", "title": "Lost bag (v1)", "condition": "Bag lost in v1", "action": "Old action"}
            ]
        },
    )
    session = make_session(agent, created_by=tester_user, version=version)
    question = event_append(session, kind="message", source="customer", data={"text": "lost"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    Trace.objects.create(turn=turn, data=_trace())
    client.force_login(tester_user)
    html = _panel(client, session, turn)
    assert "Lost bag (v1)" in html and "Bag lost in v1" in html
    assert "/admin/behavior/guideline/" not in html


def test_guideline_text_and_rationale_are_escaped(client: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "hi"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    data = _trace()
    data["matching"]["verdicts"][0]["rationale"] = "<script>alert(1)</script>"
    Trace.objects.create(turn=turn, data=data)
    client.force_login(tester_user)
    html = _panel(client, session, turn)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_running_turn_and_a_partial_trace_render_without_errors(
    client: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "hi"})
    running = Turn.objects.create(session=session, trigger_event=question, status="running")
    client.force_login(tester_user)
    assert "still running" in _panel(client, session, running)
    failed = Turn.objects.create(session=session, trigger_event=question, status="failed")
    Trace.objects.create(
        turn=failed, data={"turn": {"outcome": "failed"}, "errors": [{"stage": "matching", "error": "LLMError: down"}]}
    )
    html = _panel(client, session, failed)
    assert "LLMError: down" in html
    assert "No guideline was active this turn." in html


def test_without_htmx_the_trace_is_a_full_page_linking_back_to_the_session(
    client: Client, tester_user: Any, traced: tuple[Session, Turn]
) -> None:
    session, turn = traced
    client.force_login(tester_user)
    response = client.get(reverse("sandbox:trace", kwargs={"uid": session.uid, "turn_id": turn.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert reverse("sandbox:session", kwargs={"uid": session.uid}) in html
    assert "The customer says the suitcase is missing" in html
