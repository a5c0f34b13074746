"""The studio's tools pages: the agent's tools with typed parameters and what uses them, one tool and its edit
form, remote tool services added by URL, refreshed through the remote tool client and deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent, Tool, ToolService
from agents.tools.definitions import ToolDefinition, ToolParameterDefinition
from agents.tools.errors import ToolServiceError
from behavior.models import AuditEntry
from tests.factories import make_guideline, make_journey, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def tool(agent: Agent) -> Tool:
    return _tool(
        agent,
        "lookup_booking",
        description="Find a booking by its reference.",
        parameters=[
            {"name": "reference", "type": "str", "description": "The six-letter PNR"},
            {"name": "cabin", "type": "enum", "enum": ["economy", "business"], "required": False},
            {"name": "dates", "type": "list", "items": "date"},
        ],
    )


@pytest.fixture
def service(agent: Agent) -> ToolService:
    return ToolService.objects.create(agent=agent, name="crm", url="http://127.0.0.1:9/openapi.json", timeout_seconds=1)


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> list[ToolDefinition]:
    """What the fake remote client answers for any service URL (no network)."""
    definitions = [
        ToolDefinition(
            name="get_customer",
            description="Read a customer record.",
            parameters=(ToolParameterDefinition(name="customer_id", type="int"),),
        ),
        ToolDefinition(name="create_ticket", description="Open a ticket.", consequential=True),
    ]
    monkeypatch.setattr("agents.tools.remote.tool_service_load_sync", lambda url, timeout=5.0: list(definitions))
    return definitions


def _tool(agent: Agent, name: str, *, description: str, **fields: Any) -> Tool:
    tool = make_tool(agent, name, **fields)
    Tool.objects.filter(pk=tool.pk).update(description=description)
    tool.refresh_from_db()
    return tool


def _pages(agent: Agent, tool: Tool, service: ToolService) -> list[str]:
    return [
        reverse("studio:tool-list", args=[agent.pk]),
        reverse("studio:tool-detail", args=[agent.pk, tool.pk]),
        reverse("studio:tool-service-detail", args=[agent.pk, service.pk]),
    ]


# ------------------------------------------------------------------------------------------------- reading


def test_the_tool_list_shows_typed_parameters_and_what_uses_each_tool(
    tester_client: Client, agent: Agent, tool: Tool
) -> None:
    guideline = make_guideline(agent, "check-booking")
    guideline.tools.add(tool)
    journey = make_journey(agent, "rebook", states=("start", "end"))
    journey.states.get(key="start").tools.add(tool)

    response = tester_client.get(reverse("studio:tool-list", args=[agent.pk]))

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "lookup_booking" in html and "reference" in html
    assert "enum" in html and "economy | business" in html and "list of date" in html
    assert "1 guideline" in html and "1 journey state" in html


def test_the_tool_list_searches_and_answers_htmx_with_the_table_only(
    tester_client: Client, agent: Agent, tool: Tool
) -> None:
    _tool(agent, "send_email", description="Email the customer")

    response = tester_client.get(reverse("studio:tool-list", args=[agent.pk]), {"q": "booking"}, **HX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="tool-table"' in html and "lookup_booking" in html and "send_email" not in html


def test_a_python_tool_without_a_registered_function_is_marked(tester_client: Client, agent: Agent) -> None:
    make_tool(agent, "nobody_wrote_this")
    html = tester_client.get(reverse("studio:tool-list", args=[agent.pk])).content.decode()
    assert "Python, not registered" in html


def test_an_agent_without_tools_shows_how_to_get_some(editor_client: Client, agent: Agent) -> None:
    html = editor_client.get(reverse("studio:tool-list", args=[agent.pk])).content.decode()
    assert "No tools yet" in html and reverse("studio:tool-service-create", args=[agent.pk]) in html


def test_a_tool_page_shows_its_parameters_and_the_guidelines_using_it(
    tester_client: Client, agent: Agent, tool: Tool
) -> None:
    make_guideline(agent, "check-booking").tools.add(tool)

    response = tester_client.get(reverse("studio:tool-detail", args=[agent.pk, tool.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "The six-letter PNR" in html and "check-booking" in html and "optional" in html


def test_a_tool_or_service_of_another_agent_is_not_found_under_this_agent(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    foreign_tool = make_tool(other_agent, "foreign")
    foreign_service = ToolService.objects.create(agent=other_agent, name="theirs", url="http://127.0.0.1:9/")
    for url in (
        reverse("studio:tool-detail", args=[agent.pk, foreign_tool.pk]),
        reverse("studio:tool-update", args=[agent.pk, foreign_tool.pk]),
        reverse("studio:tool-service-detail", args=[agent.pk, foreign_service.pk]),
    ):
        assert editor_client.get(url).status_code == 404, url
    for name in ("studio:tool-service-refresh", "studio:tool-service-delete"):
        assert editor_client.post(reverse(name, args=[agent.pk, foreign_service.pk])).status_code == 404
    assert ToolService.objects.filter(pk=foreign_service.pk).exists()


# --------------------------------------------------------------------------------------------- who may do what


def test_an_anonymous_visitor_is_sent_to_log_in(
    client_for: Callable[[Any], Client], agent: Agent, tool: Tool, service: ToolService
) -> None:
    for url in _pages(agent, tool, service):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_an_outsider_gets_the_styled_403(
    outsider_client: Client, agent: Agent, tool: Tool, service: ToolService
) -> None:
    for url in _pages(agent, tool, service):
        response = outsider_client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode(), url


def test_a_tester_reads_tools_but_cannot_change_them(
    tester_client: Client, agent: Agent, tool: Tool, service: ToolService, offered: list[ToolDefinition]
) -> None:
    for url in _pages(agent, tool, service):
        assert tester_client.get(url).status_code == 200, url
    posts = {
        reverse("studio:tool-update", args=[agent.pk, tool.pk]): {"description": "x", "timeout_seconds": "5"},
        reverse("studio:tool-service-create", args=[agent.pk]): {"name": "x", "url": "https://x.example/"},
        reverse("studio:tool-service-refresh", args=[agent.pk, service.pk]): {},
        reverse("studio:tool-service-delete", args=[agent.pk, service.pk]): {},
    }
    for url, data in posts.items():
        assert tester_client.post(url, data).status_code == 403, url
    assert tester_client.get(reverse("studio:tool-update", args=[agent.pk, tool.pk])).status_code == 403
    tool.refresh_from_db()
    assert tool.description == "Find a booking by its reference."
    assert ToolService.objects.count() == 1 and not Tool.objects.filter(service=service).exists()


# ------------------------------------------------------------------------------------------------ editing a tool


def test_an_editor_changes_a_tools_description_and_it_is_audited(
    editor_client: Client, agent: Agent, tool: Tool
) -> None:
    url = reverse("studio:tool-update", args=[agent.pk, tool.pk])
    form = editor_client.get(url)
    assert form.status_code == 200 and 'name="description"' in form.content.decode()

    response = editor_client.post(
        url, {"description": "Look up a booking.", "timeout_seconds": "12", "consequential": "on", "revision": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("studio:tool-detail", args=[agent.pk, tool.pk])
    tool.refresh_from_db()
    assert (tool.description, tool.timeout_seconds, tool.consequential, tool.revision) == (
        "Look up a booking.",
        12.0,
        True,
        2,
    )
    assert tool.parameters.count() == 3  # the parameters are left alone
    assert AuditEntry.objects.filter(entity_type="tool", entity_id=tool.pk).exists()


def test_the_tool_form_answers_htmx_with_the_form_fragment(editor_client: Client, agent: Agent, tool: Tool) -> None:
    response = editor_client.get(reverse("studio:tool-update", args=[agent.pk, tool.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="tool-form"' in html


def test_an_invalid_timeout_is_shown_beside_its_field(editor_client: Client, agent: Agent, tool: Tool) -> None:
    response = editor_client.post(
        reverse("studio:tool-update", args=[agent.pk, tool.pk]),
        {"description": "ok", "timeout_seconds": "900", "revision": "1"},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 422
    field = html.split('id="field-timeout_seconds"', 1)[1].split('id="field-', 1)[0]
    assert "less than or equal to 300" in field


def test_a_stale_tool_edit_is_a_409_showing_both_versions(editor_client: Client, agent: Agent, tool: Tool) -> None:
    Tool.objects.filter(pk=tool.pk).update(description="Someone else's text", revision=2)

    response = editor_client.post(
        reverse("studio:tool-update", args=[agent.pk, tool.pk]),
        {"description": "My text", "timeout_seconds": "10", "revision": "1"},
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else&#x27;s text" in html and "My text" in html
    tool.refresh_from_db()
    assert tool.description == "Someone else's text"


# ----------------------------------------------------------------------------------------------- tool services


def test_an_editor_adds_a_tool_service_by_url(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(
        reverse("studio:tool-service-create", args=[agent.pk]),
        {"name": "booking_api", "url": "https://booking.example/openapi.json", "timeout_seconds": "4"},
    )

    service = ToolService.objects.get(agent=agent)
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:tool-service-detail", args=[agent.pk, service.pk])
    assert (service.name, service.url, service.timeout_seconds) == (
        "booking_api",
        "https://booking.example/openapi.json",
        4.0,
    )


def test_adding_a_service_over_htmx_redirects_the_page(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(
        reverse("studio:tool-service-create", args=[agent.pk]),
        {"name": "crm", "url": "http://crm.internal:8080/openapi.yaml", "timeout_seconds": "5"},
        **HX,
    )
    service = ToolService.objects.get(agent=agent)
    assert response["HX-Redirect"] == reverse("studio:tool-service-detail", args=[agent.pk, service.pk])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/openapi.json", "Use an http:// or https:// address."),
        ("javascript:alert(1)", "Use an http:// or https:// address."),
        ("https://", "The address needs a host name."),
        ("https://x.example/" + "a" * 2000, "at most 2000 characters"),
    ],
)
def test_a_service_url_must_be_a_bounded_http_address(
    editor_client: Client, agent: Agent, url: str, message: str
) -> None:
    response = editor_client.post(
        reverse("studio:tool-service-create", args=[agent.pk]), {"name": "crm", "url": url, "timeout_seconds": "5"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    field = html.split('id="field-url"', 1)[1].split('id="field-', 1)[0]
    assert message in field
    assert not ToolService.objects.exists()


def test_a_duplicate_service_name_is_refused_beside_the_name(
    editor_client: Client, agent: Agent, service: ToolService
) -> None:
    response = editor_client.post(
        reverse("studio:tool-service-create", args=[agent.pk]),
        {"name": "crm", "url": "https://other.example/openapi.json", "timeout_seconds": "5"},
    )
    assert response.status_code == 409
    field = response.content.decode().split('id="field-name"', 1)[1].split('id="field-', 1)[0]
    assert "crm" in field and "field-error" in field
    assert ToolService.objects.count() == 1


def test_refreshing_a_service_adds_its_tools_with_their_parameters(
    editor_client: Client, agent: Agent, service: ToolService, offered: list[ToolDefinition]
) -> None:
    response = editor_client.post(reverse("studio:tool-service-refresh", args=[agent.pk, service.pk]), follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Tools refreshed: 2 added, 0 updated, 0 unchanged." in html
    tools = {tool.name: tool for tool in Tool.objects.filter(service=service)}
    assert set(tools) == {"get_customer", "create_ticket"}
    assert tools["get_customer"].implementation == "remote"
    assert [(p.name, p.type) for p in tools["get_customer"].parameters.all()] == [("customer_id", "int")]
    assert tools["create_ticket"].consequential is True


def test_refreshing_again_updates_changed_tools_and_reports_the_ones_gone(
    editor_client: Client, agent: Agent, service: ToolService, offered: list[ToolDefinition]
) -> None:
    url = reverse("studio:tool-service-refresh", args=[agent.pk, service.pk])
    editor_client.post(url)
    offered[0] = ToolDefinition(name="get_customer", description="Read a customer record, newer.")
    del offered[1]

    response = editor_client.post(url, **HX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="service-tools"' in html
    assert "1 updated" in html and "create_ticket" in html and "No longer offered" in html
    refreshed = Tool.objects.get(service=service, name="get_customer")
    assert refreshed.description == "Read a customer record, newer." and refreshed.parameters.count() == 0
    assert Tool.objects.filter(name="create_ticket").exists()  # kept: a journey may still name it


def test_a_refresh_never_takes_over_a_tool_of_the_same_name(
    editor_client: Client, agent: Agent, service: ToolService, offered: list[ToolDefinition]
) -> None:
    mine = _tool(agent, "get_customer", description="My Python tool")

    html = editor_client.post(
        reverse("studio:tool-service-refresh", args=[agent.pk, service.pk]), follow=True
    ).content.decode()

    mine.refresh_from_db()
    assert mine.implementation == "python" and mine.description == "My Python tool"
    assert "Skipped: get_customer (the name is taken by a Python tool)" in html


def test_an_unreachable_service_is_reported_clearly_and_changes_nothing(
    editor_client: Client, agent: Agent, service: ToolService
) -> None:
    # 127.0.0.1:9 (discard) refuses the connection at once: the real client, no outside network.
    url = reverse("studio:tool-service-refresh", args=[agent.pk, service.pk])

    page = editor_client.post(url, follow=True).content.decode()
    fragment = editor_client.post(url, **HX)

    assert "Could not load the tools of crm" in page
    assert fragment.status_code == 200 and "The service could not be reached." in fragment.content.decode()
    assert not Tool.objects.filter(service=service).exists()


def test_a_document_that_does_not_parse_is_reported(
    editor_client: Client, agent: Agent, service: ToolService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(url: str, timeout: float = 5.0) -> list[ToolDefinition]:
        raise ToolServiceError(f"GET {url}: the OpenAPI document does not parse")

    monkeypatch.setattr("agents.tools.remote.tool_service_load_sync", broken)
    html = editor_client.post(
        reverse("studio:tool-service-refresh", args=[agent.pk, service.pk]), **HX
    ).content.decode()
    assert "does not parse" in html and "Nothing was changed" in html


def test_deleting_a_service_with_tools_needs_their_deletion_too(
    editor_client: Client, agent: Agent, service: ToolService, offered: list[ToolDefinition]
) -> None:
    editor_client.post(reverse("studio:tool-service-refresh", args=[agent.pk, service.pk]))
    url = reverse("studio:tool-service-delete", args=[agent.pk, service.pk])

    refused = editor_client.post(url, follow=True)
    assert "is used by the tools" in refused.content.decode()
    assert ToolService.objects.filter(pk=service.pk).exists()

    deleted = editor_client.post(url, {"with_tools": "on"})
    assert deleted.status_code == 302 and deleted["Location"] == reverse("studio:tool-list", args=[agent.pk])
    assert not ToolService.objects.filter(pk=service.pk).exists()
    assert not Tool.objects.filter(agent=agent, implementation="remote").exists()


def test_a_service_detail_answers_htmx_with_its_tools_fragment(
    tester_client: Client, agent: Agent, service: ToolService
) -> None:
    response = tester_client.get(reverse("studio:tool-service-detail", args=[agent.pk, service.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="service-tools"' in html
    assert "Refresh the tool list" not in html  # a tester reads only


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_descriptions_and_urls_are_shown_as_text(tester_client: Client, agent: Agent, hostile: str) -> None:
    service = ToolService.objects.create(agent=agent, name="crm", url=f"https://x.example/{hostile}")
    tool = _tool(agent, "remote_one", description=hostile, implementation="remote", service=service)
    tool.parameters.create(name="p", type="str", description=hostile)
    for url in _pages(agent, tool, service):
        html = tester_client.get(url).content.decode()
        assert_shown_as_text(html, hostile)
