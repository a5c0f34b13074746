"""The agents, tool services and tools endpoints: what they store, list and refuse."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from agents.models import Agent, Tool, ToolParameter, ToolService
from behavior.models import BehaviorVersion, Guideline, Tag
from behavior.services import version_publish
from behavior.services.audit import SYSTEM
from sessions.models import Session
from tests.api_helpers import api_client, assert_error
from tests.factories import make_agent, make_guideline, make_journey, make_session, make_tag, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


def test_it_creates_an_agent_with_defaults_and_tags(editor: Any) -> None:
    response = editor.post("/agents", {"name": "Shop Support", "description": "You help shoppers.", "tags": ["shop"]})

    assert response.status_code == 201
    body = response.json()
    agent = Agent.objects.get(pk=body["id"])
    assert agent.name == "Shop Support"
    assert agent.model == settings.DEFAULT_LLM_MODEL
    assert [tag.name for tag in agent.tags.all()] == ["shop"]
    assert body["tags"] == ["shop"]
    assert body["published_version"] is None
    assert body["composition_mode"] == "fluid"


def test_a_duplicate_agent_name_is_a_409_naming_the_field(editor: Any, agent: Agent) -> None:
    body = assert_error(editor.post("/agents", {"name": agent.name}), 409, "conflict")
    assert body["details"] == [{"path": "name", "message": f"{agent.name!r} is already taken"}]
    assert Agent.objects.filter(name=agent.name).count() == 1


def test_renaming_an_agent_to_a_taken_name_is_a_409_and_changes_nothing(
    editor: Any, agent: Agent, other_agent: Agent
) -> None:
    assert_error(editor.patch(f"/agents/{agent.pk}", {"name": other_agent.name}), 409, "conflict")
    agent.refresh_from_db()
    assert agent.name == "Skyway Support"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "temperature": 2.5}, "temperature"),
        ({"name": "A", "max_preparation_iterations": 9}, "max_preparation_iterations"),
        ({"name": "A", "composition_mode": "chaotic"}, "composition_mode"),
        ({"name": "A", "llm_profile": "Not A Key"}, "llm_profile"),
        ({"name": "A", "tags": ["no spaces allowed"]}, "tags[0]"),
        ({"name": "A", "temperature": "hot"}, "temperature"),
        ({"name": "A", "persona": "typo"}, "persona"),
    ],
)
def test_it_refuses_an_invalid_agent_with_the_field_path(editor: Any, payload: dict[str, Any], path: str) -> None:
    body = assert_error(editor.post("/agents", payload), 422, "validation_failed")
    assert body["details"][0]["path"] == path
    assert not Agent.objects.filter(name="A").exists()


def test_patching_changes_only_the_fields_sent_and_null_model_restores_the_default(editor: Any, agent: Agent) -> None:
    Agent.objects.filter(pk=agent.pk).update(model="custom-model", temperature=0.7)

    response = editor.patch(f"/agents/{agent.pk}", {"model": None, "composition_mode": "strict"})

    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.model == settings.DEFAULT_LLM_MODEL
    assert agent.composition_mode == "strict"
    assert agent.temperature == 0.7
    assert agent.description == "You are a helpful assistant."


def test_the_agent_list_is_paginated_with_a_total_count(editor: Any) -> None:
    for number in range(5):
        make_agent(f"Agent {number}")

    page = editor.get("/agents", limit=2, offset=2).json()

    assert page["count"] == 5
    assert [item["name"] for item in page["items"]] == ["Agent 2", "Agent 3"]
    assert (page["limit"], page["offset"]) == (2, 2)
    body = assert_error(editor.get("/agents", limit=1000), 422, "validation_failed")
    assert body["details"][0]["path"] == "query.limit"
    assert_error(editor.get("/agents", offset=-1), 422, "validation_failed")


def test_the_agent_list_filters_by_tag_and_name(editor: Any) -> None:
    shop = make_agent("Shop Bot")
    shop.tags.add(make_tag("retail"))
    make_agent("Airline Bot")

    assert [item["name"] for item in editor.get("/agents", tag="retail").json()["items"]] == ["Shop Bot"]
    assert [item["name"] for item in editor.get("/agents", q="airline").json()["items"]] == ["Airline Bot"]


def test_deleting_an_agent_removes_its_behavior_versions_and_sessions(agent: Agent, customer: Any) -> None:
    make_guideline(agent, "greet")
    version_publish(agent, actor=SYSTEM)
    make_session(agent, customer, version=BehaviorVersion.objects.get(agent=agent))

    response = api_client("admin").delete(f"/agents/{agent.pk}")

    assert response.status_code == 204
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert not Guideline.objects.filter(agent_id=agent.pk).exists()
    assert not BehaviorVersion.objects.filter(agent_id=agent.pk).exists()
    assert not Session.objects.filter(agent_id=agent.pk).exists()


def test_an_editor_cannot_delete_an_agent(editor: Any, agent: Agent) -> None:
    assert_error(editor.delete(f"/agents/{agent.pk}"), 403, "forbidden")
    assert Agent.objects.filter(pk=agent.pk).exists()


# ------------------------------------------------------------------------------------------------- tools


def test_it_creates_a_tool_with_typed_parameters_in_order(editor: Any, agent: Agent) -> None:
    response = editor.post(
        "/tools",
        {
            "agent": agent.pk,
            "name": "search_flights",
            "description": "Find flights",
            "timeout_seconds": 4,
            "parameters": [
                {"name": "origin", "type": "str", "description": "IATA code"},
                {"name": "date", "type": "date"},
                {"name": "cabin", "type": "enum", "enum": ["economy", "business"], "required": False},
                {"name": "stops", "type": "list", "items": "int"},
            ],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert [(item["name"], item["type"], item["position"]) for item in body["parameters"]] == [
        ("origin", "str", 0),
        ("date", "date", 1),
        ("cabin", "enum", 2),
        ("stops", "list", 3),
    ]
    tool = Tool.objects.get(pk=body["id"])
    assert tool.parameters.get(name="cabin").enum == ["economy", "business"]
    assert tool.timeout_seconds == 4


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ([{"name": "level", "type": "enum"}], "parameters[0].enum"),
        ([{"name": "ids", "type": "list"}], "parameters[0].items"),
        ([{"name": "ids", "type": "list", "items": "enum"}], "parameters[0].items"),
        ([{"name": "x", "type": "str", "enum": ["a"]}], "parameters[0].enum"),
        ([{"name": "x"}, {"name": "x"}], "parameters[1].name"),
        ([{"name": "Bad-Name"}], "parameters[0].name"),
        ([{"name": "x", "type": "complex"}], "parameters[0].type"),
    ],
)
def test_it_refuses_invalid_parameters_and_writes_nothing(
    editor: Any, agent: Agent, parameters: Any, path: str
) -> None:
    body = assert_error(
        editor.post("/tools", {"agent": agent.pk, "name": "broken", "parameters": parameters}), 422, "validation_failed"
    )
    assert body["details"][0]["path"] == path
    assert not Tool.objects.filter(name="broken").exists()
    assert not ToolParameter.objects.exists()


def test_a_duplicate_tool_name_in_one_agent_is_a_409_but_fine_in_another(
    editor: Any, agent: Agent, other_agent: Agent
) -> None:
    make_tool(agent, "lookup")
    assert_error(editor.post("/tools", {"agent": agent.pk, "name": "lookup"}), 409, "conflict")
    assert editor.post("/tools", {"agent": other_agent.pk, "name": "lookup"}).status_code == 201


def test_a_remote_tool_needs_a_tool_service_of_its_own_agent(editor: Any, agent: Agent, other_agent: Agent) -> None:
    foreign = ToolService.objects.create(agent=other_agent, name="crm", url="https://crm.example/openapi.json")
    own = ToolService.objects.create(agent=agent, name="crm", url="https://crm.example/openapi.json")

    missing = assert_error(editor.post("/tools", {"agent": agent.pk, "name": "r", "implementation": "remote"}), 422)
    assert missing["details"][0]["path"] == "service"
    other = assert_error(
        editor.post("/tools", {"agent": agent.pk, "name": "r", "implementation": "remote", "service": foreign.pk}), 422
    )
    assert other["details"][0]["path"] == "service"
    created = editor.post("/tools", {"agent": agent.pk, "name": "r", "implementation": "remote", "service": own.pk})
    assert created.status_code == 201
    assert created.json()["service"] == own.pk


def test_patching_parameters_replaces_the_whole_list(editor: Any, agent: Agent) -> None:
    tool = make_tool(agent, "lookup", parameters=[{"name": "a"}, {"name": "b"}])

    response = editor.patch(f"/tools/{tool.pk}", {"parameters": [{"name": "c", "type": "int"}]})

    assert response.status_code == 200
    assert list(tool.parameters.values_list("name", "type")) == [("c", "int")]
    unchanged = editor.patch(f"/tools/{tool.pk}", {"description": "Looks things up"})
    assert [item["name"] for item in unchanged.json()["parameters"]] == ["c"]


def test_a_tool_used_by_a_journey_tool_state_cannot_be_deleted(editor: Any, agent: Agent) -> None:
    tool = make_tool(agent, "lookup")
    make_journey(agent, "check", states=[{"key": "run", "kind": "tool", "tool": tool, "action": ""}, "end"])

    body = assert_error(editor.delete(f"/tools/{tool.pk}"), 409, "conflict")

    assert "check/run" in body["message"]
    assert Tool.objects.filter(pk=tool.pk).exists()


def test_the_tool_list_filters_by_agent(editor: Any, agent: Agent, other_agent: Agent) -> None:
    make_tool(agent, "mine")
    make_tool(other_agent, "theirs")
    assert [item["name"] for item in editor.get("/tools", agent=agent.pk).json()["items"]] == ["mine"]


# ----------------------------------------------------------------------------------------- tool services


def test_tool_services_are_unique_per_agent_and_need_an_http_url(editor: Any, agent: Agent) -> None:
    created = editor.post(
        "/tool-services", {"agent": agent.pk, "name": "crm", "url": "https://crm.example/openapi.json"}
    )
    assert created.status_code == 201
    assert_error(
        editor.post("/tool-services", {"agent": agent.pk, "name": "crm", "url": "https://x.example/o.json"}), 409
    )
    body = assert_error(
        editor.post("/tool-services", {"agent": agent.pk, "name": "b", "url": "file:///etc/passwd"}), 422
    )
    assert body["details"][0]["path"] == "url"
    assert ToolService.objects.filter(agent=agent).count() == 1


def test_a_tool_service_in_use_cannot_be_deleted(editor: Any, agent: Agent) -> None:
    service = ToolService.objects.create(agent=agent, name="crm", url="https://crm.example/openapi.json")
    make_tool(agent, "remote_lookup", implementation="remote", service=service)

    assert_error(editor.delete(f"/tool-services/{service.pk}"), 409, "conflict")
    assert ToolService.objects.filter(pk=service.pk).exists()


def test_tags_are_created_on_first_use(editor: Any) -> None:
    editor.post("/agents", {"name": "Tagged", "tags": ["alpha", "beta"]})
    assert set(Tag.objects.values_list("name", flat=True)) >= {"alpha", "beta"}
