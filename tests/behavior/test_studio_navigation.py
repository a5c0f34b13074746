"""Navigation by role: the home page sends each role where it works, the top bar shows only what a user may
open, a refused page is styled with the way back, and "Try in sandbox" opens a draft session beside the studio."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from sessions.models import Session
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _nav_labels(html: str) -> list[str]:
    nav = html.split('class="topnav"', 1)[1].split("</nav>", 1)[0] if 'class="topnav"' in html else ""
    return re.findall(r">(Studio|Sandbox|Inbox|Admin)<", nav)


@pytest.mark.parametrize(
    ("roles", "start"),
    [
        (("editor",), "studio:agent-list"),
        (("tester",), "sandbox:home"),
        (("operator",), "inbox:list"),
        (("tester", "operator"), "sandbox:home"),
    ],
)
def test_the_home_page_sends_each_role_where_it_works(
    client_for: Callable[[Any], Client], roles: tuple[str, ...], start: str
) -> None:
    response = client_for(make_user(None, *roles)).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(start)


def test_the_home_page_tells_a_user_without_a_role_whom_to_ask(outsider_client: Client) -> None:
    response = outsider_client.get(reverse("home"))
    assert response.status_code == 403
    assert "Ask an administrator" in response.content.decode()


@pytest.mark.parametrize(
    ("roles", "shown"),
    [
        (("editor",), ["Studio", "Sandbox"]),
        (("tester",), ["Studio", "Sandbox"]),
        (("operator",), ["Studio", "Inbox"]),
        (("admin",), ["Studio", "Sandbox", "Inbox", "Admin"]),
    ],
)
def test_the_top_bar_shows_only_the_areas_a_role_may_open(
    client_for: Callable[[Any], Client], roles: tuple[str, ...], shown: list[str]
) -> None:
    html = client_for(make_user(None, *roles)).get(reverse("studio:agent-list")).content.decode()
    assert _nav_labels(html) == shown


def test_an_editor_may_use_the_sandbox(editor_client: Client, agent: Agent) -> None:
    assert editor_client.get(reverse("sandbox:home")).status_code == 200


def test_an_operator_may_not_open_the_sandbox_and_sees_a_styled_page(
    client_for: Callable[[Any], Client], operator_user: Any
) -> None:
    response = client_for(operator_user).get(reverse("sandbox:home"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You may not open this page" in html and "Sandbox needs" in html and "<html" in html


def test_an_htmx_request_that_is_refused_gets_a_short_message_not_a_page(outsider_client: Client) -> None:
    response = outsider_client.get(reverse("studio:agent-list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert "<html" not in response.content.decode() and response["X-Decorum-Message"]


def test_try_in_sandbox_opens_a_draft_session_in_the_side_panel(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(reverse("sandbox:try", args=[agent.pk]), {"return": "panel"})
    session = Session.objects.get(agent=agent)
    assert session.version_id is None  # the draft
    assert response.status_code == 302
    assert response["Location"] == reverse("sandbox:session", kwargs={"uid": session.uid}) + "?panel=1"
    page = editor_client.get(response["Location"]).content.decode()
    assert "in-panel" in page


def test_an_operator_cannot_try_an_agent_in_the_sandbox(
    client_for: Callable[[Any], Client], operator_user: Any, agent: Agent
) -> None:
    assert client_for(operator_user).post(reverse("sandbox:try", args=[agent.pk])).status_code == 403
    assert not Session.objects.filter(agent=agent).exists()
