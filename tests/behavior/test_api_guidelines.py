"""The guidelines and tags endpoints: storing, filtering, references to the agent's own tools, duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from behavior.models import Guideline, Relationship, Tag
from tests.api_helpers import api_client, assert_error
from tests.factories import make_guideline, make_tag, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


def test_it_creates_a_guideline_with_tags_and_tools(editor: Any, agent: Agent) -> None:
    tool = make_tool(agent, "lookup_booking")

    response = editor.post(
        "/guidelines",
        {
            "agent": agent.pk,
            "key": "refund-policy",
            "title": "Refunds",
            "condition": "The customer asks for a refund",
            "action": "Explain the refund policy",
            "criticality": "high",
            "priority": 5,
            "tags": ["billing"],
            "tools": [tool.pk],
            "labels": ["money"],
            "metadata": {"owner": "support", "reviewed": True},
        },
    )

    assert response.status_code == 201
    body = response.json()
    guideline = Guideline.objects.get(pk=body["id"])
    assert (guideline.key, guideline.criticality, guideline.priority) == ("refund-policy", "high", 5)
    assert list(guideline.tools.all()) == [tool]
    assert [tag.name for tag in guideline.tags.all()] == ["billing"]
    assert guideline.metadata == {"owner": "support", "reviewed": True}
    assert body["is_observation"] is False
    assert body["tools"] == [tool.pk]


def test_a_guideline_without_an_action_is_an_observation(editor: Any, agent: Agent) -> None:
    response = editor.post("/guidelines", {"agent": agent.pk, "key": "wants-refund", "condition": "Wants a refund"})

    assert response.status_code == 201
    assert response.json()["is_observation"] is True
    assert Guideline.objects.get(key="wants-refund").action is None


def test_a_tool_of_another_agent_is_refused_with_its_path_and_nothing_is_written(
    editor: Any, agent: Agent, other_agent: Agent
) -> None:
    own = make_tool(agent, "mine")
    foreign = make_tool(other_agent, "theirs")

    body = assert_error(
        editor.post("/guidelines", {"agent": agent.pk, "key": "g", "condition": "c", "tools": [own.pk, foreign.pk]}),
        422,
        "validation_failed",
    )

    assert body["details"] == [{"path": "tools[1]", "message": f"no tool of this agent with id {foreign.pk}"}]
    assert not Guideline.objects.filter(key="g").exists()


def test_an_unknown_agent_is_a_404(editor: Any) -> None:
    assert_error(editor.post("/guidelines", {"agent": 424242, "key": "g", "condition": "c"}), 404, "not_found")


def test_a_duplicate_key_is_a_409_within_an_agent_only(editor: Any, agent: Agent, other_agent: Agent) -> None:
    make_guideline(agent, "greet")

    body = assert_error(editor.post("/guidelines", {"agent": agent.pk, "key": "greet", "condition": "c"}), 409)

    assert body["details"][0]["path"] == "key"
    assert Guideline.objects.filter(agent=agent, key="greet").count() == 1
    assert editor.post("/guidelines", {"agent": other_agent.pk, "key": "greet", "condition": "c"}).status_code == 201


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"condition": ""}, "condition"),
        ({"condition": "   "}, "condition"),
        ({"condition": "c", "criticality": "urgent"}, "criticality"),
        ({"condition": "c", "priority": 10**12}, "priority"),
        ({"condition": "c", "labels": [""]}, "labels[0]"),
        ({"condition": "c", "metadata": ["not", "an", "object"]}, "metadata"),
        ({"condition": "c", "action": ""}, "action"),
        ({"condition": "x" * 4001}, "condition"),
    ],
)
def test_it_refuses_invalid_guidelines_with_the_field_path(
    editor: Any, agent: Agent, payload: dict[str, Any], path: str
) -> None:
    body = assert_error(editor.post("/guidelines", {"agent": agent.pk, "key": "bad", **payload}), 422)
    assert body["details"][0]["path"] == path
    assert not Guideline.objects.filter(key="bad").exists()


def test_patching_tags_replaces_them_and_null_action_makes_an_observation(editor: Any, agent: Agent) -> None:
    guideline = make_guideline(agent, "greet", tags=[make_tag("old")])

    response = editor.patch(f"/guidelines/{guideline.pk}", {"tags": ["new"], "action": None})

    assert response.status_code == 200
    guideline.refresh_from_db()
    assert [tag.name for tag in guideline.tags.all()] == ["new"]
    assert guideline.is_observation
    assert guideline.condition == "The customer asks for help"


def test_the_list_filters_by_agent_tag_enabled_observation_and_text(
    editor: Any, agent: Agent, other_agent: Agent
) -> None:
    vip = make_tag("vip")
    make_guideline(agent, "greet", condition="The customer says hello", tags=[vip])
    make_guideline(agent, "refund", condition="The customer wants money back", enabled=False)
    make_guideline(agent, "angry", condition="The customer is angry", action=None)
    make_guideline(other_agent, "elsewhere")

    def keys(**query: Any) -> list[str]:
        return [item["key"] for item in editor.get("/guidelines", agent=agent.pk, **query).json()["items"]]

    assert keys() == ["angry", "greet", "refund"]
    assert keys(tag="vip") == ["greet"]
    assert keys(enabled="false") == ["refund"]
    assert keys(observation="true") == ["angry"]
    assert keys(observation="false") == ["greet", "refund"]
    assert keys(q="MONEY") == ["refund"]
    assert editor.get("/guidelines").json()["count"] == 4


def test_deleting_a_guideline_deletes_its_relationships(editor: Any, agent: Agent) -> None:
    first = make_guideline(agent, "first")
    second = make_guideline(agent, "second")
    Relationship.objects.create(
        agent=agent,
        kind="entails",
        source_type="guideline",
        source_guideline=first,
        target_type="guideline",
        target_guideline=second,
    )

    assert editor.delete(f"/guidelines/{first.pk}").status_code == 204

    assert not Guideline.objects.filter(pk=first.pk).exists()
    assert not Relationship.objects.exists()
    assert_error(editor.get(f"/guidelines/{first.pk}"), 404)


# -------------------------------------------------------------------------------------------------- tags


def test_tags_are_created_renamed_and_deleted(editor: Any, agent: Agent) -> None:
    created = editor.post("/tags", {"name": "vip"})
    assert created.status_code == 201
    tag = Tag.objects.get(name="vip")
    guideline = make_guideline(agent, "greet", tags=[tag])

    renamed = editor.patch(f"/tags/{tag.pk}", {"name": "gold"})
    assert renamed.json() == {"id": tag.pk, "name": "gold"}
    assert [item.name for item in guideline.tags.all()] == ["gold"]

    assert editor.delete(f"/tags/{tag.pk}").status_code == 204
    assert not guideline.tags.exists()


def test_a_duplicate_or_malformed_tag_is_refused(editor: Any) -> None:
    make_tag("vip")
    other = make_tag("gold")
    assert_error(editor.post("/tags", {"name": "vip"}), 409, "conflict")
    assert_error(editor.patch(f"/tags/{other.pk}", {"name": "vip"}), 409, "conflict")
    body = assert_error(editor.post("/tags", {"name": "has spaces"}), 422)
    assert body["details"][0]["path"] == "name"
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["gold", "vip"]


def test_the_tag_list_searches_names(editor: Any) -> None:
    for name in ("vip", "journey:refund", "frequent"):
        make_tag(name)
    assert [item["name"] for item in editor.get("/tags", q="jour").json()["items"]] == ["journey:refund"]


def test_a_refused_guideline_leaves_no_new_tag_behind(editor: Any, agent: Agent, other_agent: Agent) -> None:
    foreign = make_tool(other_agent, "theirs")
    assert_error(
        editor.post(
            "/guidelines",
            {"agent": agent.pk, "key": "g", "condition": "c", "tags": ["brand-new"], "tools": [foreign.pk]},
        ),
        422,
    )
    assert not Tag.objects.filter(name="brand-new").exists()
