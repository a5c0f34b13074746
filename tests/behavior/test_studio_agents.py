"""The studio's agent pages: the list, creating an agent, its overview, its settings and deleting it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import AuditEntry
from tests.factories import make_agent, make_guideline
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


def _settings_data(agent: Agent | None = None, **changes: Any) -> dict[str, Any]:
    data = {
        "name": "Harbor Bank",
        "description": "A calm assistant for Harbor Bank's customers.",
        "model": "",
        "temperature": "0.2",
        "llm_profile": "default",
        "composition_mode": "fluid",
        "no_match_reply": "Sorry, I can't help with that here.",
        "max_preparation_iterations": "2",
        "preamble": "on",
        "tags": "",
    }
    if agent is not None:
        data["revision"] = str(agent.revision)
    data.update(changes)
    return data


def test_the_agent_list_shows_every_agent_with_its_counts(tester_client: Client, agent: Agent) -> None:
    make_guideline(agent, key="greet", condition="The customer says hello", action="Greet them")
    response = tester_client.get(reverse("studio:agent-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Skyway Support" in html and "<html" in html
    assert reverse("studio:agent-detail", args=[agent.pk]) in html


def test_the_agent_list_searches_by_name_and_answers_htmx_with_the_table_only(
    tester_client: Client, agent: Agent, other_agent: Agent
) -> None:
    response = tester_client.get(reverse("studio:agent-list"), {"q": "skyway"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Skyway Support" in html and "Other Agent" not in html


def test_an_empty_studio_invites_an_editor_to_create_the_first_agent(editor_client: Client) -> None:
    html = editor_client.get(reverse("studio:agent-list")).content.decode()
    assert "No agents yet" in html and reverse("studio:agent-create") in html


def test_a_search_that_matches_nothing_says_so(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(reverse("studio:agent-list"), {"q": "nothing-like-this"}).content.decode()
    assert "No agent matches" in html


def test_an_outsider_gets_a_styled_refusal_with_the_way_back(outsider_client: Client, agent: Agent) -> None:
    for url in (reverse("studio:agent-list"), reverse("studio:agent-detail", args=[agent.pk])):
        response = outsider_client.get(url)
        html = response.content.decode()
        assert response.status_code == 403
        assert "You may not open this page" in html and reverse("home") in html


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: Client, agent: Agent) -> None:
    response = client.get(reverse("studio:agent-detail", args=[agent.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_an_editor_creates_an_agent_and_lands_on_its_overview(editor_client: Client) -> None:
    response = editor_client.post(reverse("studio:agent-create"), _settings_data())
    agent = Agent.objects.get(name="Harbor Bank")
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:agent-detail", args=[agent.pk])
    entry = AuditEntry.objects.get(entity_type="agent", entity_id=agent.pk)
    assert entry.username == "editor" and entry.source == "studio"


def test_each_settings_error_is_shown_beside_its_field(editor_client: Client) -> None:
    response = editor_client.post(
        reverse("studio:agent-create"), _settings_data(name="", temperature="9", llm_profile="Not A Slug")
    )
    html = response.content.decode()
    assert response.status_code == 422
    name_field = html.split('id="field-name"', 1)[1].split('id="field-', 1)[0]
    assert "This field is required" in name_field
    temperature_field = html.split('id="field-temperature"', 1)[1].split('id="field-', 1)[0]
    assert "less than or equal to 2" in temperature_field
    assert not Agent.objects.filter(name="").exists()


def test_a_duplicate_agent_name_is_refused_beside_the_name(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(reverse("studio:agent-create"), _settings_data(name=agent.name))
    html = response.content.decode()
    assert response.status_code in (409, 422)
    assert "field-error" in html.split('id="field-name"', 1)[1].split('id="field-', 1)[0]
    assert Agent.objects.filter(name=agent.name).count() == 1


def test_a_tester_reads_the_overview_but_may_not_create_or_change_agents(tester_client: Client, agent: Agent) -> None:
    assert tester_client.get(reverse("studio:agent-detail", args=[agent.pk])).status_code == 200
    assert tester_client.get(reverse("studio:agent-create")).status_code == 403
    assert tester_client.post(reverse("studio:agent-create"), _settings_data()).status_code == 403
    update = reverse("studio:agent-update", args=[agent.pk])
    assert tester_client.post(update, _settings_data(agent, name="Renamed")).status_code == 403
    agent.refresh_from_db()
    assert agent.name == "Skyway Support"


def test_the_overview_shows_counts_draft_state_and_quick_links(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, key="greet", condition="The customer says hello", action="Greet them")
    make_guideline(agent, key="upset", condition="The customer is upset", action=None)
    html = editor_client.get(reverse("studio:agent-detail", args=[agent.pk])).content.decode()
    assert "Never published" in html
    assert "1 observations" in html or "1 observation" in html
    assert "Try in sandbox" in html and reverse("sandbox:try", args=[agent.pk]) in html


def test_an_editor_saves_the_settings_and_a_stale_form_is_refused_with_both_versions(
    editor_client: Client, agent: Agent
) -> None:
    update = reverse("studio:agent-update", args=[agent.pk])
    opened_at = _settings_data(agent, name="Skyway Care")
    assert editor_client.post(update, opened_at).status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Skyway Care"

    response = editor_client.post(update, {**opened_at, "name": "Skyway Help"})  # the old revision again
    html = response.content.decode()
    assert response.status_code == 409
    assert "Skyway Care" in html  # the version saved meanwhile is shown beside the user's own
    agent.refresh_from_db()
    assert agent.name == "Skyway Care"


def test_an_unknown_agent_is_a_styled_404(editor_client: Client) -> None:
    response = editor_client.get(reverse("studio:agent-detail", args=[999_999]))
    assert response.status_code == 404 and "Not found" in response.content.decode()


def test_only_an_admin_deletes_an_agent(editor_client: Client, admin_client_: Client, agent: Agent) -> None:
    url = reverse("studio:agent-delete", args=[agent.pk])
    assert editor_client.post(url).status_code == 403
    assert Agent.objects.filter(pk=agent.pk).exists()
    response = admin_client_.post(url)
    assert response.status_code == 302 and not Agent.objects.filter(pk=agent.pk).exists()


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_agent_texts_show_as_text(tester_client: Client, text: str) -> None:
    agent = make_agent(f"Agent {text}", description=f"Persona {text}")
    for url in (reverse("studio:agent-list"), reverse("studio:agent-detail", args=[agent.pk])):
        assert_shown_as_text(tester_client.get(url).content.decode(), text)
