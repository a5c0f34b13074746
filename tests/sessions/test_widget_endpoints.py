"""The widget's HTTP endpoints: starting a visitor, opening a conversation on the published version, writing,
asking for a person, ending and rating it, and every other customer's conversation staying out of reach."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents.models import Agent, WidgetKey
from behavior.services.audit import SYSTEM
from behavior.services.versions import version_publish
from sessions.models import Event, EventKind, EventSource, Rating, Session, SessionMode, SessionSource, Turn
from sessions.services import event_append
from tests.factories import make_agent, make_session
from tests.support.studio import HOSTILE_TEXTS
from tests.support.widget import SITE, WidgetClient, published, widget_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agent: Agent) -> WidgetKey:
    return widget_key_for(published(agent))


@pytest.fixture
def widget(key: WidgetKey) -> WidgetClient:
    widget = WidgetClient(key)
    widget.start()
    return widget


@pytest.fixture
def uid(widget: WidgetClient) -> str:
    return str(widget.open_session()["uid"])


# ---------------------------------------------------------------- visitor


def test_a_first_visit_answers_a_token_the_agent_and_the_limits(key: WidgetKey, settings: Any) -> None:
    data = WidgetClient(key).start()
    assert data["token"] and data["token_expires_at"]
    assert data["visitor"] == {"identified": False, "verified": False, "name": ""}
    assert data["agent"] == {"name": "Skyway Support", "available": True, "message": ""}
    assert data["session"] is None
    assert data["limits"] == {"max_message_chars": settings.MAX_CUSTOMER_MESSAGE_CHARS}


def test_a_returning_visitor_gets_a_fresh_token_and_its_open_conversation(widget: WidgetClient, uid: str) -> None:
    before = widget.token
    data = widget.start()
    assert data["session"]["uid"] == uid
    assert data["token"] != before or data["token"]


def test_an_agent_without_a_published_version_says_it_is_unavailable(db: None) -> None:
    key = widget_key_for(make_agent("Unpublished"))
    widget = WidgetClient(key)
    data = widget.start()
    assert data["agent"]["available"] is False
    assert "not available" in data["agent"]["message"]
    response = widget.post("sessions")
    assert response.status_code == 409
    assert response.json()["code"] == "agent_unavailable"
    assert response.json()["message"] == data["agent"]["message"]
    assert not Session.objects.filter(source=SessionSource.WIDGET).exists()


def test_a_body_that_is_not_json_answers_400(key: WidgetKey) -> None:
    widget = WidgetClient(key)
    response = widget.client.post(
        "/widget/v1/visitor", data="{not json", content_type="application/json", headers=widget.headers()
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_a_wrong_method_answers_405_in_json(widget: WidgetClient) -> None:
    response = widget.get("sessions")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# ---------------------------------------------------------------- sessions


def test_opening_a_conversation_creates_one_on_the_published_version(widget: WidgetClient, agent: Agent) -> None:
    response = widget.post("sessions")
    assert response.status_code == 201
    body = response.json()
    session = Session.objects.get(uid=body["uid"])
    assert session.source == SessionSource.WIDGET and session.version_id == agent.published_version_id
    assert body == {
        "uid": str(session.uid),
        "mode": "auto",
        "closed": False,
        "last_offset": 0,
        "rating": None,
        "operator": None,
        "websocket": f"/ws/widget/sessions/{session.uid}/",
    }


def test_opening_again_answers_the_same_open_conversation(widget: WidgetClient, uid: str) -> None:
    response = widget.post("sessions")
    assert response.status_code == 200
    assert response.json()["uid"] == uid


def test_a_conversation_keeps_its_version_after_a_new_one_is_published(
    widget: WidgetClient, uid: str, agent: Agent
) -> None:
    first = Session.objects.get(uid=uid).version_id
    version_publish(agent, actor=SYSTEM, note="v2")
    assert Session.objects.get(uid=widget.open_session()["uid"]).version_id == first
    widget.post(f"sessions/{uid}/close")
    after_close = Session.objects.get(uid=widget.open_session()["uid"])
    assert after_close.uid != uid and after_close.version_id == agent.published_version_id != first


def test_reading_a_conversation_answers_its_state(widget: WidgetClient, uid: str) -> None:
    response = widget.get(f"sessions/{uid}/")
    assert response.status_code == 200
    assert response.json()["uid"] == uid


def test_another_visitors_conversation_answers_404_to_reads_and_writes(key: WidgetKey, uid: str) -> None:
    stranger = WidgetClient(key)
    stranger.start()
    assert stranger.get(f"sessions/{uid}/").status_code == 404
    for action, body in [
        ("messages", {"text": "hi"}),
        ("handoff", {}),
        ("typing", {}),
        ("close", {}),
        ("rating", {"scale": "thumbs", "score": 1}),
    ]:
        response = stranger.post(f"sessions/{uid}/{action}", body)
        assert response.status_code == 404, action
        assert response.json()["code"] == "not_found"
    assert Session.objects.get(uid=uid).closed_at is None
    assert not Event.objects.filter(session__uid=uid).exists()


def test_a_sandbox_session_of_the_same_agent_answers_404(widget: WidgetClient, agent: Agent) -> None:
    sandbox = make_session(agent)
    assert widget.get(f"sessions/{sandbox.uid}/").status_code == 404


def test_the_same_visitor_through_another_agents_key_answers_404(
    widget: WidgetClient, uid: str, other_agent: Agent
) -> None:
    other = WidgetClient(widget_key_for(published(other_agent)))
    other.start()
    assert other.get(f"sessions/{uid}/").status_code == 404


def test_a_malformed_session_id_answers_404_in_json(widget: WidgetClient) -> None:
    response = widget.get("sessions/not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# ---------------------------------------------------------------- messages


def test_a_message_is_stored_and_answered_in_the_customer_form(widget: WidgetClient, uid: str) -> None:
    response = widget.post(f"sessions/{uid}/messages", {"text": "  Where is my order?  "})
    assert response.status_code == 201
    event = response.json()["event"]
    assert event["kind"] == "message" and event["source"] == "customer"
    assert event["text"] == "Where is my order?" and event["offset"] == 1
    assert set(event) == {"offset", "kind", "source", "text", "message_id", "created_at"}
    assert Turn.objects.filter(session__uid=uid).count() == 1


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_is_stored_and_answered_as_plain_text(widget: WidgetClient, uid: str, text: str) -> None:
    response = widget.post(f"sessions/{uid}/messages", {"text": text})
    assert response.status_code == 201
    assert response.json()["event"]["text"] == text.strip()
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("text", ["   ", "\n\t \n"])
def test_a_whitespace_only_message_answers_422_saying_why(widget: WidgetClient, uid: str, text: str) -> None:
    response = widget.post(f"sessions/{uid}/messages", {"text": text})
    assert response.status_code == 422
    assert "only spaces" in response.json()["message"]
    assert not Event.objects.filter(session__uid=uid).exists()


def test_an_empty_or_missing_text_answers_422(widget: WidgetClient, uid: str) -> None:
    assert widget.post(f"sessions/{uid}/messages", {"text": ""}).status_code == 422
    assert widget.post(f"sessions/{uid}/messages", {}).status_code == 422


def test_a_message_over_the_limit_answers_413_with_the_limit(widget: WidgetClient, uid: str, settings: Any) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 50
    response = widget.post(f"sessions/{uid}/messages", {"text": "x" * 51})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["details"]["limit"] == 50
    assert "50" in response.json()["message"]


def test_a_message_at_the_limit_is_accepted(widget: WidgetClient, uid: str, settings: Any) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 50
    assert widget.post(f"sessions/{uid}/messages", {"text": "x" * 50}).status_code == 201


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(
    widget: WidgetClient, uid: str, settings: Any
) -> None:
    settings.MAX_CUSTOMER_MESSAGE_CHARS = 10
    response = widget.post(f"sessions/{uid}/messages", {"text": "x" * 100_000})
    assert response.status_code == 413
    assert "limit_bytes" in response.json()["details"]


def test_a_closed_conversation_takes_no_message(widget: WidgetClient, uid: str) -> None:
    widget.post(f"sessions/{uid}/close")
    response = widget.post(f"sessions/{uid}/messages", {"text": "one more thing"})
    assert response.status_code == 409
    assert response.json()["code"] == "conversation_closed"


# ---------------------------------------------------------------- handoff, typing, close


def test_asking_for_a_person_makes_the_conversation_wait_for_one(widget: WidgetClient, uid: str) -> None:
    response = widget.post(f"sessions/{uid}/handoff")
    assert response.status_code == 200
    assert response.json()["mode"] == "waiting"
    session = Session.objects.get(uid=uid)
    assert session.mode == SessionMode.WAITING
    handoff = session.handoffs.get()
    assert handoff.reason == "customer" and handoff.detail["message"] == "The customer asked for a person."


def test_a_message_while_waiting_for_a_person_starts_no_turn(widget: WidgetClient, uid: str) -> None:
    widget.post(f"sessions/{uid}/handoff")
    assert widget.post(f"sessions/{uid}/messages", {"text": "hello?"}).status_code == 201
    assert not Turn.objects.filter(session__uid=uid, status="pending").exists()


def test_typing_answers_204_and_tells_the_sessions_group(
    widget: WidgetClient, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("sessions.widget.views.typing_broadcast_now", lambda uid, **kw: sent.append((uid, kw)))
    response = widget.post(f"sessions/{uid}/typing")
    assert response.status_code == 204
    assert [(str(u), kw["who"]) for u, kw in sent] == [(uid, "customer")]


def test_closing_ends_the_conversation_with_a_closed_status(widget: WidgetClient, uid: str) -> None:
    response = widget.post(f"sessions/{uid}/close")
    assert response.status_code == 200
    assert response.json()["closed"] is True
    last = Event.objects.filter(session__uid=uid).order_by("-offset").first()
    assert last is not None and last.data == {"status": "closed"}
    assert widget.post("sessions").json()["uid"] != uid


def test_closing_twice_adds_no_second_status(widget: WidgetClient, uid: str) -> None:
    widget.post(f"sessions/{uid}/close")
    widget.post(f"sessions/{uid}/close")
    assert Event.objects.filter(session__uid=uid).count() == 1


# ---------------------------------------------------------------- rating


def _with_a_reply(uid: str) -> None:
    session = Session.objects.get(uid=uid)
    event_append(session, kind=EventKind.MESSAGE, source=EventSource.AGENT, data={"text": "Done!"})


def test_a_rating_is_stored_and_answered(widget: WidgetClient, uid: str) -> None:
    _with_a_reply(uid)
    response = widget.post(f"sessions/{uid}/rating", {"scale": "five", "score": 4, "comment": "Quick <b>help</b>"})
    assert response.status_code == 200
    assert response.json() == {"rating": {"scale": "five", "score": 4, "comment": "Quick <b>help</b>"}}
    assert widget.get(f"sessions/{uid}/").json()["rating"]["score"] == 4


def test_rating_again_replaces_the_rating(widget: WidgetClient, uid: str) -> None:
    _with_a_reply(uid)
    widget.post(f"sessions/{uid}/rating", {"scale": "thumbs", "score": 0})
    widget.post(f"sessions/{uid}/rating", {"scale": "thumbs", "score": 1})
    assert list(Rating.objects.filter(session__uid=uid).values_list("score", flat=True)) == [1]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"scale": "thumbs", "score": 2}, "score"),
        ({"scale": "five", "score": 0}, "score"),
        ({"scale": "five", "score": True}, "score"),
        ({"scale": "stars", "score": 3}, "scale"),
        ({"scale": "five", "score": 3, "comment": "x" * 2001}, "comment"),
    ],
)
def test_an_invalid_rating_is_refused_naming_the_field(
    widget: WidgetClient, uid: str, body: dict[str, Any], path: str
) -> None:
    _with_a_reply(uid)
    response = widget.post(f"sessions/{uid}/rating", body)
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == path
    assert not Rating.objects.exists()


def test_a_conversation_with_no_message_cannot_be_rated(widget: WidgetClient, uid: str) -> None:
    response = widget.post(f"sessions/{uid}/rating", {"scale": "thumbs", "score": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_rate"


def test_a_stored_rating_emits_the_conversation_rated_webhook(
    widget: WidgetClient, uid: str, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sessions.webhooks.services as webhooks

    assert callable(webhooks.webhooks_emit_on_commit)  # helper D's module is in place
    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(webhooks, "webhooks_emit_on_commit", lambda **kwargs: emitted.append(kwargs))
    _with_a_reply(uid)
    widget.post(f"sessions/{uid}/rating", {"scale": "five", "score": 5, "comment": "great"})
    emitted = [call for call in emitted if call["event_type"] == "conversation.rated"]
    assert len(emitted) == 1
    assert emitted[0]["agent_id"] == agent.pk
    assert emitted[0]["data"]["session"]["uid"] == uid
    assert emitted[0]["data"]["rating"] == {"scale": "five", "score": 5, "comment": "great"}
    json.dumps(emitted[0]["data"])


def test_every_answer_to_an_allowed_origin_carries_cors_headers(widget: WidgetClient, uid: str) -> None:
    for response in [
        widget.get(f"sessions/{uid}/"),
        widget.post(f"sessions/{uid}/messages", {"text": "   "}),
        widget.get("sessions/not-a-uuid/"),
    ]:
        assert response["Access-Control-Allow-Origin"] == SITE
