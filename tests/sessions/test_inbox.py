"""The operators' inbox: who may open it, its three lists and their rows, live updates over ws/inbox/, and the
conversation page (the cause of the handoff, internal notes, take / reply / hand back)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.asgi import application
from sessions.models import Event, Handoff, OperatorNote, Session, SessionMode, Trace, Turn
from sessions.services.handoff import handoff_request, handoff_take
from sessions.services.messages import customer_message_post
from tests.factories import make_customer, make_session, make_user
from tests.support.studio import HOSTILE_TEXTS, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client_for: Any, operator_user: Any) -> Client:
    return client_for(operator_user)


def widget_session(agent: Any, name: str, **fields: Any) -> Session:
    return make_session(agent, make_customer(name), source="widget", **fields)


def inbox_html(client: Client, **params: Any) -> str:
    response = client.get(reverse("inbox:list"), params)
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- who may open it


@pytest.mark.parametrize("client_name", ["tester_client", "outsider_client", "editor_client"])
def test_it_refuses_users_without_the_operator_role_with_the_styled_page(
    client_name: str, request: Any, session: Session
) -> None:
    client = request.getfixturevalue(client_name)

    for url in (reverse("inbox:list"), reverse("inbox:session", kwargs={"uid": session.uid})):
        response = client.get(url)
        assert response.status_code == 403
        assert "The Inbox needs the admin or operator role." in response.content.decode()
        assert "<html" in response.content.decode()  # the styled error page, not a bare text


def test_it_refuses_a_tester_taking_a_conversation_through_the_inbox(tester_client: Client, session: Session) -> None:
    response = tester_client.post(reverse("inbox:session-take", kwargs={"uid": session.uid}))

    assert response.status_code == 403
    assert Session.objects.get(pk=session.pk).mode == SessionMode.AUTO


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("inbox:list"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_operators_and_admins_open_it(operator_client: Client, admin_client_: Client) -> None:
    assert operator_client.get(reverse("inbox:list")).status_code == 200
    assert admin_client_.get(reverse("inbox:list")).status_code == 200


def test_an_unknown_or_malformed_conversation_answers_404(operator_client: Client) -> None:
    assert operator_client.get("/inbox/sessions/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert operator_client.get("/inbox/sessions/not-a-uuid/").status_code == 404


# ---------------------------------------------------------------- the lists


def test_waiting_conversations_come_oldest_first_with_their_waiting_time(operator_client: Client, agent: Any) -> None:
    newer, older = widget_session(agent, "Newer Customer"), widget_session(agent, "Older Customer")
    handoff_request(older, reason="customer")
    Handoff.objects.filter(session=older).update(requested_at=timezone.now() - timedelta(minutes=12))
    handoff_request(newer, reason="customer")

    html = inbox_html(operator_client)

    waiting = html[html.index('id="inbox-waiting"') : html.index('id="inbox-mine"')]
    assert waiting.index("Older Customer") < waiting.index("Newer Customer")
    assert "12 min</time>" in waiting
    assert "<title>(2) Inbox · Decorum</title>" in html


def test_a_row_reads_customer_agent_channel_state_and_last_message(operator_client: Client, agent: Any) -> None:
    session = widget_session(agent, "James Carter")
    customer_message_post(session, text="My bag never arrived in Madrid.")
    handoff_request(session, reason="customer")

    html = inbox_html(operator_client)

    row = html[html.index(f'id="inbox-waiting-{session.uid}"') :]
    row = row[: row.index("</li>")]
    text = " ".join(re.sub(r"<[^>]+>", " ", row.split(">", 1)[1]).split())
    assert (
        text
        == "James Carter · Skyway Support · Widget · waiting under a minute Customer: My bag never arrived in Madrid."
    )
    assert "draft" not in row


def test_mine_lists_what_i_took_and_not_what_another_operator_took(
    operator_client: Client, operator_user: Any, agent: Any
) -> None:
    mine, theirs = widget_session(agent, "Mine Customer"), widget_session(agent, "Theirs Customer")
    handoff_take(mine, user=operator_user)
    handoff_take(theirs, user=make_user("dana", "operator", first_name="Dana"))

    html = inbox_html(operator_client)

    section = html[html.index('id="inbox-mine"') : html.index('id="inbox-live"')]
    assert "Mine Customer" in section and "Theirs Customer" not in section
    live = html[html.index('id="inbox-live"') :]
    assert "Theirs Customer" in live and "with Dana" in live


def test_all_live_leaves_out_ended_stale_and_sandbox_conversations(operator_client: Client, agent: Any) -> None:
    widget_session(agent, "Live Customer")
    ended = widget_session(agent, "Ended Customer")
    Session.objects.filter(pk=ended.pk).update(closed_at=timezone.now())
    stale = widget_session(agent, "Stale Customer")
    Session.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=3))
    make_session(agent, make_customer("Sandbox Tester Customer"))

    live = inbox_html(operator_client).split('id="inbox-live"')[1]

    assert "Live Customer" in live
    assert "Ended Customer" not in live and "Stale Customer" not in live and "Sandbox Tester Customer" not in live


def test_empty_lists_say_so(operator_client: Client) -> None:
    html = inbox_html(operator_client)

    assert "Nobody is waiting." in html
    assert "You handle no conversation right now." in html
    assert "No customer talked to an agent in the last 24 hours." in html


def test_the_lists_are_paginated_each_on_its_own(operator_client: Client, agent: Any) -> None:
    for number in range(23):
        handoff_request(widget_session(agent, f"Waiting {number:02d}"), reason="customer")

    first = inbox_html(operator_client).split('id="inbox-mine"')[0]
    second = inbox_html(operator_client, waiting=2).split('id="inbox-mine"')[0]

    assert "Waiting 00" in first and "Waiting 22" not in first and "Page 1 of 2" in first
    assert "Waiting 22" in second and "Waiting 00" not in second


def test_htmx_gets_only_the_lists_region(operator_client: Client) -> None:
    response = operator_client.get(reverse("inbox:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-lists")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="inbox-lists"') and "<html" not in html


def test_hostile_customer_text_is_shown_as_text(operator_client: Client, agent: Any) -> None:
    session = make_session(agent, make_customer(HOSTILE_TEXTS[0]), source="widget")
    customer_message_post(session, text=HOSTILE_TEXTS[1])
    handoff_request(session, reason="customer")

    html = inbox_html(operator_client)

    assert_shown_as_text(html, HOSTILE_TEXTS[0])
    assert_shown_as_text(html, HOSTILE_TEXTS[1])


# ---------------------------------------------------------------- the conversation page


def handed_off_by_a_guideline(agent: Any) -> Session:
    """A widget session whose turn called the built-in handoff tool for the human-handoff guideline."""
    session = widget_session(agent, "Grace Hopper")
    event = customer_message_post(session, text="Can I talk to a person please?")
    turn = Turn.objects.filter(session=session).first() or Turn.objects.create(session=session, trigger_event=event)
    Trace.objects.create(
        turn=turn,
        data={
            "turn": {"outcome": "handed_off"},
            "matching": {
                "verdicts": [{"key": "human-handoff", "applies": True, "rationale": "She asked for a person."}]
            },
            "tools": {
                "calls": [
                    {"tool": "handoff", "source": "human-handoff", "status": "ok", "result": {"handed_off": True}}
                ]
            },
            "handoff": {"tool": "handoff", "source": "human-handoff", "reason": "The customer asked for a person."},
        },
    )
    handoff_request(
        session,
        reason="guideline",
        detail={"tool": "handoff", "guidelines": ["human-handoff"], "reason": "The customer asked for a person."},
        turn=turn,
    )
    return session


def test_the_conversation_page_shows_the_history_and_the_cause_of_the_handoff(
    operator_client: Client, agent: Any
) -> None:
    session = handed_off_by_a_guideline(agent)

    html = operator_client.get(reverse("inbox:session", kwargs={"uid": session.uid})).content.decode()

    assert "Can I talk to a person please?" in html
    assert "A guideline asked for a human" in html
    assert "<code>handoff</code>" in html and "human-handoff" in html
    assert "The customer asked for a person." in html
    assert "Trace of the turn that caused it" in html and "She asked for a person." in html
    assert 'id="take"' in html and 'id="reply"' not in html


def test_taking_a_conversation_shows_the_reply_and_hand_back_forms(
    operator_client: Client, operator_user: Any, agent: Any
) -> None:
    session = handed_off_by_a_guideline(agent)

    response = operator_client.post(reverse("inbox:session-take", kwargs={"uid": session.uid}))
    html = operator_client.get(response["Location"]).content.decode()

    session.refresh_from_db()
    assert (session.mode, session.assigned_to_id) == (SessionMode.HUMAN, operator_user.pk)
    assert "You took the conversation" in html
    assert 'id="reply"' in html and 'id="hand-back"' in html and 'id="take"' not in html


def test_a_second_operator_taking_it_is_told_who_has_it(operator_user: Any, client_for: Any, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    operator_user.first_name, operator_user.last_name = "Sam", "Lee"
    operator_user.save()
    handoff_take(session, user=operator_user)
    other = client_for(make_user("other", "operator"))

    response = other.post(reverse("inbox:session-take", kwargs={"uid": session.uid}), follow=True)

    assert "Sam Lee already handles this conversation." in response.content.decode()
    assert Session.objects.get(pk=session.pk).assigned_to_id == operator_user.pk
    assert 'id="reply"' not in response.content.decode()


def test_replying_posts_a_human_message_with_the_operators_name(
    operator_client: Client, operator_user: Any, agent: Any
) -> None:
    session = widget_session(agent, "Ada Customer")
    operator_user.first_name = "Sam"
    operator_user.save()
    handoff_take(session, user=operator_user)

    response = operator_client.post(
        reverse("inbox:session-reply", kwargs={"uid": session.uid}), {"text": "Hi, Sam here."}
    )

    assert response.status_code == 302
    event = Event.objects.filter(session=session, kind="message").get()
    assert (event.source, event.data["text"], event.data["operator"]["display_name"]) == (
        "human_operator",
        "Hi, Sam here.",
        "Sam",
    )


def test_replying_to_a_conversation_one_does_not_own_is_refused(operator_client: Client, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    handoff_take(session, user=make_user("owner", "operator"))

    response = operator_client.post(reverse("inbox:session-reply", kwargs={"uid": session.uid}), {"text": "Me too"})

    assert response.status_code == 403
    assert not Event.objects.filter(session=session, source="human_operator").exists()


def test_handing_back_with_a_note_returns_it_to_the_agent(
    operator_client: Client, operator_user: Any, agent: Any
) -> None:
    session = widget_session(agent, "Ada Customer")
    handoff_take(session, user=operator_user)

    operator_client.post(reverse("inbox:session-hand-back", kwargs={"uid": session.uid}), {"note": "Refund approved."})

    session.refresh_from_db()
    assert session.mode == SessionMode.AUTO
    assert session.handoffs.get().return_note == "Refund approved."


def test_another_operator_cannot_hand_back_my_conversation(operator_user: Any, client_for: Any, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    handoff_take(session, user=operator_user)

    response = client_for(make_user("intruder", "operator")).post(
        reverse("inbox:session-hand-back", kwargs={"uid": session.uid}), {"note": "mine now"}
    )

    assert response.status_code == 403
    assert Session.objects.get(pk=session.pk).mode == SessionMode.HUMAN


def test_internal_notes_are_listed_and_added_as_text(operator_client: Client, operator_user: Any, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    url = reverse("inbox:note-create", kwargs={"uid": session.uid})

    response = operator_client.post(
        url, {"text": HOSTILE_TEXTS[0]}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="operator-notes"
    )

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section class="card" id="operator-notes">')
    assert_shown_as_text(html, HOSTILE_TEXTS[0])
    assert OperatorNote.objects.get(session=session).author_id == operator_user.pk
    assert not Event.objects.filter(session=session).exists()  # a note is never an event the customer could see


def test_an_empty_or_oversized_note_is_refused_beside_the_form(operator_client: Client, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    url = reverse("inbox:note-create", kwargs={"uid": session.uid})

    empty = operator_client.post(url, {"text": "   "}, HTTP_HX_REQUEST="true")
    huge = operator_client.post(url, {"text": "x" * 4001}, HTTP_HX_REQUEST="true")

    assert empty.status_code == 422 and "This field is required." in empty.content.decode()
    assert huge.status_code == 422 and "at most 4000 characters" in huge.content.decode()
    assert not OperatorNote.objects.exists()


def test_the_controls_region_is_served_alone_for_the_chat_script(operator_client: Client, agent: Any) -> None:
    session = widget_session(agent, "Ada Customer")
    handoff_request(session, reason="customer")

    response = operator_client.get(
        reverse("inbox:session", kwargs={"uid": session.uid}), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-controls"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="session-controls"') and 'data-mode="waiting"' in html


# ---------------------------------------------------------------- live updates


async def connect_as(user: Any) -> tuple[WebsocketCommunicator, bool, Any]:
    from channels.db import database_sync_to_async

    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        client = Client()
        await database_sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


@pytest.mark.django_db(transaction=True)
def test_an_operators_inbox_socket_hears_a_new_waiting_conversation(operator_user: Any, agent: Any) -> None:
    session = widget_session(agent, "Live Customer")

    async def scenario() -> dict[str, Any]:
        from channels.db import database_sync_to_async

        communicator, connected, _ = await connect_as(operator_user)
        assert connected
        await database_sync_to_async(handoff_request)(session, reason="customer")
        frame = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return frame

    frame = asyncio.run(scenario())

    assert frame == {"type": "inbox", "session": str(session.uid), "change": "waiting", "mode": "waiting"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", [None, "tester"])
def test_the_inbox_socket_closes_for_anonymous_users_and_non_operators(role: str | None) -> None:
    user = make_user("socket-user", role) if role else None

    async def scenario() -> Any:
        communicator, connected, _ = await connect_as(user)
        output = await communicator.receive_output(timeout=5)
        await communicator.disconnect()
        return connected, output  # accepted first, so a browser can read the close code

    _, output = asyncio.run(scenario())

    assert output == {"type": "websocket.close", "code": 4403 if role else 4401}


@pytest.mark.django_db(transaction=True)
def test_an_operators_typing_reaches_the_other_side_of_the_conversation_with_their_name(
    operator_user: Any, admin_user: Any, agent: Any
) -> None:
    operator_user.first_name = "Sam"
    operator_user.save()
    session = widget_session(agent, "Typing Customer")
    handoff_take(session, user=operator_user)

    async def open_chat(user: Any) -> WebsocketCommunicator:
        from channels.db import database_sync_to_async

        client = Client()
        await database_sync_to_async(client.force_login)(user)
        communicator = WebsocketCommunicator(
            application,
            f"/ws/sandbox/sessions/{session.uid}/",
            headers=[
                (b"origin", b"http://testserver"),
                (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
            ],
        )
        connected, _ = await communicator.connect()
        assert connected
        last = await database_sync_to_async(lambda: session.events.count())()
        await communicator.send_json_to({"type": "resume", "after": last})
        return communicator

    async def scenario() -> list[dict[str, Any]]:
        watcher = await open_chat(admin_user)
        typist = await open_chat(operator_user)
        await typist.send_json_to({"type": "typing"})
        await typist.send_json_to({"type": "typing"})  # within 2 s: not passed on again
        frames = [await watcher.receive_json_from(timeout=5)]
        await watcher.send_json_to({"type": "ping"})
        frames.append(await watcher.receive_json_from(timeout=5))
        await watcher.disconnect()
        await typist.disconnect()
        return frames

    frames = asyncio.run(scenario())

    assert frames == [{"type": "typing", "who": "operator", "name": "Sam"}, {"type": "pong"}]
