"""The sandbox composer on the server's side: the page gives the script the message limit and no maxlength that
would cut a paste; a whitespace-only or too long message is refused with a reason shown beside the composer,
the text kept whole in it, and nothing stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agents.models import Agent
from sessions.models import Event, SessionMode
from tests.factories import make_session
from tests.support.studio import HOSTILE_TEXTS

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def logged_in(client: Client, tester_user: Any) -> Client:
    client.force_login(tester_user)
    return client


def composer_of(html: str, form_id: str = "composer") -> str:
    return html.split(f'id="{form_id}"', 1)[1].split("</form>", 1)[0]


def test_the_composer_carries_the_limit_in_a_data_attribute_and_no_maxlength(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    html = logged_in.get(reverse("sandbox:session", kwargs={"uid": session.uid})).content.decode()
    composer = composer_of(html)
    textarea = re.search(r"<textarea[^>]*>", composer)
    assert textarea is not None
    assert f'data-max-chars="{settings.MAX_CUSTOMER_MESSAGE_CHARS}"' in textarea.group(0)
    assert "maxlength" not in textarea.group(0)
    assert re.search(r'<span class="counter"[^>]*hidden', composer), "the counter waits until the text nears the limit"


def test_a_whitespace_only_message_is_refused_with_a_reason_beside_the_composer(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    response = logged_in.post(reverse("sandbox:message-post", kwargs={"uid": session.uid}), {"text": "   \n\t  "})
    assert response.status_code == 422
    composer = composer_of(response.content.decode())
    assert "Nothing was sent: the message is empty or only spaces and line breaks." in composer
    assert not Event.objects.filter(session=session).exists()


def test_a_too_long_message_is_refused_naming_the_limit_and_kept_whole_in_the_composer(
    logged_in: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user)
    limit = settings.MAX_CUSTOMER_MESSAGE_CHARS
    text = "a" * limit + "THE END"
    response = logged_in.post(reverse("sandbox:message-post", kwargs={"uid": session.uid}), {"text": text})
    assert response.status_code == 422
    composer = composer_of(response.content.decode())
    assert f"the message has {limit + 7} characters; a message has at most {limit} characters" in composer
    assert f">{text}</textarea>" in composer, "the text is given back whole, not cut at the limit"
    assert not Event.objects.filter(session=session).exists()


def test_the_htmx_answer_is_the_reason_as_text(logged_in: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    url = reverse("sandbox:message-post", kwargs={"uid": session.uid})
    blank = logged_in.post(url, {"text": "  "}, headers=HX)
    assert blank.status_code == 422 and "only spaces and line breaks" in blank.content.decode()
    long = logged_in.post(url, {"text": "x" * (settings.MAX_CUSTOMER_MESSAGE_CHARS + 1)}, headers=HX)
    assert long.status_code == 422 and "at most" in long.content.decode()
    assert not Event.objects.filter(session=session).exists()


def test_a_message_at_the_limit_is_sent(logged_in: Client, tester_user: Any, agent: Agent, monkeypatch: Any) -> None:
    monkeypatch.setattr("sessions.services.turns.turn_enqueue", lambda turn_id: None)
    session = make_session(agent, created_by=tester_user)
    text = "b" * settings.MAX_CUSTOMER_MESSAGE_CHARS
    response = logged_in.post(reverse("sandbox:message-post", kwargs={"uid": session.uid}), {"text": f"  {text}  "})
    assert response.status_code == 302
    assert Event.objects.get(session=session).data["text"] == text


def test_a_refused_hostile_text_is_given_back_as_text(logged_in: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    text = HOSTILE_TEXTS[0] + "x" * settings.MAX_CUSTOMER_MESSAGE_CHARS
    response = logged_in.post(reverse("sandbox:message-post", kwargs={"uid": session.uid}), {"text": text})
    html = response.content.decode()
    assert response.status_code == 422
    assert HOSTILE_TEXTS[0] not in html and escape(HOSTILE_TEXTS[0]) in composer_of(html)


def test_the_operator_composer_keeps_a_refused_text_too(logged_in: Client, tester_user: Any, agent: Agent) -> None:
    session = make_session(agent, created_by=tester_user)
    session.mode = SessionMode.HUMAN
    session.assigned_to = tester_user
    session.save(update_fields=["mode", "assigned_to"])
    text = "c" * (settings.MAX_CUSTOMER_MESSAGE_CHARS + 1)
    response = logged_in.post(reverse("sandbox:operator-message", kwargs={"uid": session.uid}), {"text": text})
    assert response.status_code == 422
    html = response.content.decode()
    operator = composer_of(html, "operator-composer")
    assert "a message has at most" in operator and f">{text}</textarea>" in operator
    assert "a message has at most" not in composer_of(html)
    assert not Event.objects.filter(session=session).exists()
