"""Agent, tool and tool parameter validation, and the embedding record's vector encoding."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.models import Agent, EmbeddingRecord, Tool, ToolParameter, ToolService
from behavior.models import BehaviorVersion
from tests.factories import make_agent, make_tool

pytestmark = pytest.mark.django_db


def test_an_agent_name_is_unique(agent: Agent) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Agent(name=agent.name).full_clean()
    assert "name" in excinfo.value.error_dict


@pytest.mark.parametrize("iterations", [0, 6])
def test_max_preparation_iterations_is_bounded_in_clean_and_in_the_database(iterations: int) -> None:
    agent = Agent(name="Bounded", max_preparation_iterations=iterations)
    with pytest.raises(ValidationError) as excinfo:
        agent.full_clean()
    assert "max_preparation_iterations" in excinfo.value.error_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        agent.save()


def test_an_agent_cannot_publish_another_agents_version(agent: Agent, other_agent: Agent) -> None:
    foreign = BehaviorVersion.objects.create(agent=other_agent, number=1, document={})
    agent.published_version = foreign
    with pytest.raises(ValidationError) as excinfo:
        agent.full_clean()
    assert "published_version" in excinfo.value.error_dict


def test_a_remote_tool_needs_a_service_of_the_same_agent(agent: Agent, other_agent: Agent) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Tool(agent=agent, name="remote_lookup", implementation="remote").full_clean()
    assert "needs a tool service" in " ".join(excinfo.value.messages)
    foreign_service = ToolService.objects.create(
        agent=other_agent, name="crm", url="http://127.0.0.1:9000/openapi.json"
    )
    with pytest.raises(ValidationError) as excinfo:
        Tool(agent=agent, name="remote_lookup", implementation="remote", service=foreign_service).full_clean()
    assert "'crm' belongs to another agent" in " ".join(excinfo.value.messages)
    own_service = ToolService.objects.create(agent=agent, name="crm", url="http://127.0.0.1:9000/openapi.json")
    Tool(agent=agent, name="remote_lookup", implementation="remote", service=own_service).full_clean()


def test_tool_names_are_unique_per_agent_only(agent: Agent, other_agent: Agent) -> None:
    make_tool(agent, "lookup_booking")
    make_tool(other_agent, "lookup_booking")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_tool(agent, "lookup_booking")


def test_parameters_keep_their_order(agent: Agent) -> None:
    tool = make_tool(agent, parameters=[{"name": "b"}, {"name": "a", "type": "int"}])
    assert [parameter.name for parameter in tool.parameters.all()] == ["b", "a"]


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"type": "enum", "enum": []}, "enum"),
        ({"type": "enum", "enum": ["a", "a"]}, "enum"),
        ({"type": "str", "enum": ["a"]}, "enum"),
        ({"type": "list"}, "items"),
        ({"type": "list", "items": "list"}, "items"),
        ({"type": "list", "items": "enum"}, "enum"),
        ({"type": "list", "items": "str", "enum": ["a"]}, "enum"),
        ({"type": "int", "items": "str"}, "items"),
        ({"type": "decimal"}, "type"),
    ],
)
def test_it_rejects_inconsistent_parameter_types(agent: Agent, fields: dict[str, object], error_field: str) -> None:
    parameter = ToolParameter(tool=make_tool(agent), name="value", **fields)
    with pytest.raises(ValidationError) as excinfo:
        parameter.full_clean()
    assert error_field in excinfo.value.error_dict


def test_it_accepts_enum_and_list_parameters(agent: Agent) -> None:
    tool = make_tool(agent)
    ToolParameter(tool=tool, name="cabin", type="enum", enum=["economy", "business"]).full_clean()
    ToolParameter(tool=tool, name="dates", type="list", items="date").full_clean()
    ToolParameter(tool=tool, name="seats", type="list", items="enum", enum=["window", "aisle"]).full_clean()


def test_an_embedding_record_round_trips_its_float32_vector() -> None:
    record = EmbeddingRecord.objects.create(
        model_id="all-MiniLM-L6-v2", content_hash="a" * 64, dimensions=3, vector=EmbeddingRecord.pack([0.5, -1.0, 2.25])
    )
    record.refresh_from_db()
    assert record.values() == [0.5, -1.0, 2.25]
    with pytest.raises(IntegrityError), transaction.atomic():
        EmbeddingRecord.objects.create(model_id="all-MiniLM-L6-v2", content_hash="a" * 64, dimensions=3, vector=b"")


def test_deleting_an_agent_removes_its_behavior_versions_and_sessions() -> None:
    from tests.factories import make_session

    agent = make_agent("Temporary")
    version = BehaviorVersion.objects.create(agent=agent, number=1, document={})
    make_session(agent, version=version)
    agent.delete()
    assert BehaviorVersion.objects.filter(pk=version.pk).count() == 0
