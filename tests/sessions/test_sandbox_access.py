"""Who may open which sandbox page, fragment and action: login, roles, other testers' sessions, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from sessions.models import Customer, Event, Flag, Session, Trace, Turn
from sessions.services import event_append
from tests.factories import make_session, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tester_session(agent: Agent, customer: Customer, tester_user: Any) -> Session:
    """A sandbox session of `tester_user` with one answered turn (customer #1, agent #2) and its trace."""
    session = make_session(agent, customer, created_by=tester_user)
    question = event_append(session, kind="message", source="customer", data={"text": "Where is my bag?"})
    turn = Turn.objects.create(session=session, trigger_event=question, status="done")
    event_append(session, kind="message", source="agent", data={"text": "Let me check.", "message_id": "m1"}, turn=turn)
    Trace.objects.create(
        turn=turn,
        data={"matching": {"verdicts": [{"key": "lost-bag", "applies": True, "rationale": "The bag is missing"}]}},
    )
    return session


def _urls(session: Session) -> dict[str, str]:
    turn = session.turns.get()
    return {
        "session": reverse("sandbox:session", kwargs={"uid": session.uid}),
        "event": reverse("sandbox:event", kwargs={"uid": session.uid, "offset": 2}),
        "trace": reverse("sandbox:trace", kwargs={"uid": session.uid, "turn_id": turn.pk}),
    }


def _post_urls(session: Session) -> dict[str, tuple[str, dict[str, str]]]:
    uid = session.uid
    return {
        "message": (reverse("sandbox:message-post", kwargs={"uid": uid}), {"text": "Hello"}),
        "operator": (reverse("sandbox:operator-message", kwargs={"uid": uid}), {"text": "Hello"}),
        "mode": (reverse("sandbox:mode", kwargs={"uid": uid}), {"mode": "human"}),
        "branch": (reverse("sandbox:branch", kwargs={"uid": uid, "offset": 1}), {"text": "Edited"}),
        "regenerate": (reverse("sandbox:regenerate", kwargs={"uid": uid, "offset": 2}), {}),
        "flag": (reverse("sandbox:flag", kwargs={"uid": uid, "offset": 2}), {"reason": "Wrong"}),
    }


def test_anonymous_users_are_sent_to_the_login_page_everywhere(client: Client, tester_session: Session) -> None:
    pages = [reverse("home"), reverse("sandbox:home"), *_urls(tester_session).values()]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    for url, data in _post_urls(tester_session).values():
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert Event.objects.filter(session=tester_session).count() == 2
    assert not Flag.objects.exists()


def test_the_login_page_logs_a_tester_in_and_the_home_page_redirects_to_the_sandbox(
    client: Client, tester_user: Any
) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "tester", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"] == reverse("sandbox:home")


def test_an_editor_may_use_the_sandbox_too(client: Client, editor_user: Any, agent: Agent) -> None:
    client.force_login(editor_user)
    assert client.get(reverse("sandbox:home")).status_code == 200


def test_logout_is_a_post_that_ends_the_session(client: Client, tester_user: Any) -> None:
    client.force_login(tester_user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("sandbox:home")).status_code == 302


@pytest.mark.parametrize("role", ["", "operator"])
def test_the_sandbox_page_needs_the_tester_editor_or_admin_role(client: Client, role: str, agent: Agent) -> None:
    user = make_user(f"user-{role or 'none'}", *([role] if role else []))
    client.force_login(user)
    assert client.get(reverse("sandbox:home")).status_code == 403
    response = client.post(reverse("sandbox:customer-create"), {"agent": agent.pk, "name": "Eve"})
    assert response.status_code == 403
    assert not Customer.objects.filter(name="Eve").exists()


def test_an_outsider_gets_404_for_a_session_and_every_fragment_of_it(
    client: Client, outsider_user: Any, tester_session: Session
) -> None:
    client.force_login(outsider_user)
    for name, url in _urls(tester_session).items():
        assert client.get(url).status_code == 404, name
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404, name
    for name, (url, data) in _post_urls(tester_session).items():
        assert client.post(url, data).status_code == 404, name


def test_another_tester_cannot_see_or_touch_a_session_they_did_not_create(
    client: Client, tester_session: Session
) -> None:
    other = make_user("other-tester", "tester")
    client.force_login(other)
    for name, url in _urls(tester_session).items():
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404, name
    for name, (url, data) in _post_urls(tester_session).items():
        assert client.post(url, data).status_code == 404, name
    tester_session.refresh_from_db()
    assert tester_session.mode == "auto"
    assert Session.objects.count() == 1
    assert Event.objects.filter(session=tester_session).count() == 2
    assert not Flag.objects.exists()
    listing = client.get(reverse("sandbox:home"))
    assert str(tester_session.uid) not in listing.content.decode()


def test_the_trace_partial_requested_alone_is_checked_against_its_session(
    client: Client, tester_user: Any, tester_session: Session, agent: Agent
) -> None:
    """A turn id from someone else's session cannot be read through one's own session's URL."""
    mine = make_session(agent, created_by=make_user("second-tester", "tester"))
    client.force_login(mine.created_by)
    turn = tester_session.turns.get()
    url = reverse("sandbox:trace", kwargs={"uid": mine.uid, "turn_id": turn.pk})
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 404
    client.force_login(tester_user)
    own = client.get(
        reverse("sandbox:trace", kwargs={"uid": tester_session.uid, "turn_id": turn.pk}), headers={"HX-Request": "true"}
    )
    assert own.status_code == 200
    assert b"The bag is missing" in own.content
    assert b"<html" not in own.content  # the partial, not the page


def test_an_admin_sees_every_session_and_its_trace(client: Client, admin_user: Any, tester_session: Session) -> None:
    client.force_login(admin_user)
    for name, url in _urls(tester_session).items():
        assert client.get(url).status_code == 200, name
    listing = client.get(reverse("sandbox:home"), {"agent": tester_session.agent_id})
    assert str(tester_session.uid) in listing.content.decode()


def test_an_operator_may_open_a_session_for_takeover_but_not_write_as_the_customer(
    client: Client, operator_user: Any, tester_session: Session
) -> None:
    client.force_login(operator_user)
    page = client.get(_urls(tester_session)["session"])
    assert page.status_code == 200
    assert b'id="take-over"' in page.content
    assert b'id="composer"' not in page.content  # no customer composer
    url, data = _post_urls(tester_session)["message"]
    assert client.post(url, data).status_code == 403
    url, data = _post_urls(tester_session)["branch"]
    assert client.post(url, data).status_code == 403
    url, data = _post_urls(tester_session)["mode"]
    assert client.post(url, data).status_code == 302
    tester_session.refresh_from_db()
    assert tester_session.mode == "human"
    assert Event.objects.filter(session=tester_session, source="customer").count() == 1


def test_an_api_session_is_readable_by_an_admin_but_never_driven_as_its_customer(
    client: Client, admin_user: Any, agent: Agent
) -> None:
    session = make_session(agent, source="api")
    client.force_login(admin_user)
    page = client.get(reverse("sandbox:session", kwargs={"uid": session.uid}))
    assert page.status_code == 200
    assert b'id="composer"' not in page.content
    response = client.post(reverse("sandbox:message-post", kwargs={"uid": session.uid}), {"text": "I am the customer"})
    assert response.status_code == 403
    assert not Event.objects.filter(session=session).exists()


def test_posts_without_a_csrf_token_are_refused(tester_user: Any, tester_session: Session) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(tester_user)
    for name, (url, data) in _post_urls(tester_session).items():
        assert client.post(url, data).status_code == 403, name
    assert Event.objects.filter(session=tester_session).count() == 2
    assert Session.objects.count() == 1


def test_an_unknown_session_uid_and_an_unknown_event_are_404(
    client: Client, tester_user: Any, tester_session: Session
) -> None:
    client.force_login(tester_user)
    assert client.get("/sandbox/sessions/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(reverse("sandbox:event", kwargs={"uid": tester_session.uid, "offset": 99})).status_code == 404


def test_a_user_without_a_role_gets_a_friendly_403_home_page(client: Client, outsider_user: Any) -> None:
    client.force_login(outsider_user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your account has no role yet" in page
    assert "Ask an administrator for the editor, tester or operator role" in page
    assert 'href="/"' in page  # the way back
