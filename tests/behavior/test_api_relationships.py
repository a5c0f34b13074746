"""The relationships endpoint: every legal kind, and the illegal ones (wrong endpoint types, self-loops,
cycles, foreign endpoints, duplicates) refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from behavior.models import Guideline, Relationship
from tests.api_helpers import api_client, assert_error
from tests.factories import make_guideline, make_journey, make_tag, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


@pytest.fixture
def rows(agent: Agent) -> dict[str, Any]:
    return {
        "greet": make_guideline(agent, "greet"),
        "refund": make_guideline(agent, "refund"),
        "vip-refund": make_guideline(agent, "vip-refund"),
        "wants-refund": make_guideline(agent, "wants-refund", action=None),
        "journey": make_journey(agent, "rebook"),
        "tag": make_tag("vip"),
        "lookup": make_tool(agent, "lookup"),
        "search": make_tool(agent, "search"),
    }


def _endpoint(row: Any) -> dict[str, Any]:
    kinds = {"Guideline": "guideline", "Journey": "journey", "Tag": "tag", "Tool": "tool"}
    return {"type": kinds[type(row).__name__], "id": row.pk}


def _post(client: Any, agent: Agent, kind: str, source: Any, target: Any) -> Any:
    return client.post(
        "/relationships", {"agent": agent.pk, "kind": kind, "source": _endpoint(source), "target": _endpoint(target)}
    )


@pytest.mark.parametrize(
    ("kind", "source", "target"),
    [
        ("entails", "greet", "refund"),
        ("overrides", "vip-refund", "refund"),
        ("overrides", "tag", "refund"),
        ("depends_on", "journey", "wants-refund"),
        ("depends_on_any", "refund", "tag"),
        ("disambiguates", "wants-refund", "journey"),
        ("reevaluate_after", "refund", "lookup"),
        ("tools_overlap", "lookup", "search"),
    ],
)
def test_it_creates_every_legal_kind(
    editor: Any, agent: Agent, rows: dict[str, Any], kind: str, source: str, target: str
) -> None:
    response = _post(editor, agent, kind, rows[source], rows[target])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == kind
    assert body["source"] == {**_endpoint(rows[source]), "ref": getattr(rows[source], "key", None) or rows[source].name}
    assert Relationship.objects.get(pk=body["id"]).endpoint("target") == rows[target]


@pytest.mark.parametrize(
    ("kind", "source", "target", "fragment"),
    [
        ("entails", "tag", "refund", "needs a guideline as source"),
        ("tools_overlap", "lookup", "refund", "needs a tool as target"),
        ("reevaluate_after", "refund", "greet", "needs a tool as target"),
        ("disambiguates", "greet", "refund", "observation"),
    ],
)
def test_it_refuses_a_kind_illegal_for_the_endpoint_types(
    editor: Any, agent: Agent, rows: dict[str, Any], kind: str, source: str, target: str, fragment: str
) -> None:
    body = assert_error(_post(editor, agent, kind, rows[source], rows[target]), 422, "validation_failed")
    assert fragment in body["message"]
    assert body["details"][0]["path"] == "kind"
    assert not Relationship.objects.exists()


def test_it_refuses_a_self_loop(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    body = assert_error(_post(editor, agent, "overrides", rows["greet"], rows["greet"]), 422)
    assert "to itself" in body["message"]
    assert not Relationship.objects.exists()


def test_it_refuses_an_overrides_cycle_naming_it(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    assert _post(editor, agent, "overrides", rows["greet"], rows["refund"]).status_code == 201
    assert _post(editor, agent, "overrides", rows["refund"], rows["vip-refund"]).status_code == 201

    body = assert_error(_post(editor, agent, "overrides", rows["vip-refund"], rows["greet"]), 422)

    assert "cycle" in body["message"]
    assert "greet" in body["message"] and "vip-refund" in body["message"]
    assert Relationship.objects.count() == 2


def test_a_depends_on_cycle_through_depends_on_any_is_refused(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    assert _post(editor, agent, "depends_on", rows["greet"], rows["refund"]).status_code == 201
    assert_error(_post(editor, agent, "depends_on_any", rows["refund"], rows["greet"]), 422)


def test_a_duplicate_is_a_409(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    first = _post(editor, agent, "entails", rows["greet"], rows["refund"]).json()
    body = assert_error(_post(editor, agent, "entails", rows["greet"], rows["refund"]), 409, "conflict")
    assert str(first["id"]) in body["message"]
    assert Relationship.objects.count() == 1


def test_an_endpoint_of_another_agent_or_an_unknown_one_is_refused_with_its_path(
    editor: Any, agent: Agent, other_agent: Agent, rows: dict[str, Any]
) -> None:
    foreign = make_guideline(other_agent, "foreign")
    body = assert_error(_post(editor, agent, "entails", rows["greet"], foreign), 422)
    assert body["details"][0]["path"] == "target.id"
    body = assert_error(
        editor.post(
            "/relationships",
            {
                "agent": agent.pk,
                "kind": "entails",
                "source": {"type": "guideline", "id": 99999},
                "target": _endpoint(rows["greet"]),
            },
        ),
        422,
    )
    assert body["details"][0]["path"] == "source.id"
    assert not Relationship.objects.exists()


def test_an_update_that_would_close_a_cycle_is_refused_and_changes_nothing(
    editor: Any, agent: Agent, rows: dict[str, Any]
) -> None:
    _post(editor, agent, "overrides", rows["greet"], rows["refund"])
    second = _post(editor, agent, "overrides", rows["refund"], rows["vip-refund"]).json()

    assert_error(editor.patch(f"/relationships/{second['id']}", {"target": _endpoint(rows["greet"])}), 422)

    assert Relationship.objects.get(pk=second["id"]).target_guideline == rows["vip-refund"]


def test_an_update_changes_the_kind_and_endpoints(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    created = _post(editor, agent, "entails", rows["greet"], rows["refund"]).json()

    response = editor.patch(
        f"/relationships/{created['id']}", {"kind": "reevaluate_after", "target": _endpoint(rows["lookup"])}
    )

    assert response.status_code == 200
    relationship = Relationship.objects.get(pk=created["id"])
    assert (relationship.kind, relationship.target_type, relationship.target_tool) == (
        "reevaluate_after",
        "tool",
        rows["lookup"],
    )
    assert relationship.target_guideline is None


def test_the_list_filters_by_kind_and_guideline(editor: Any, agent: Agent, rows: dict[str, Any]) -> None:
    _post(editor, agent, "entails", rows["greet"], rows["refund"])
    _post(editor, agent, "overrides", rows["vip-refund"], rows["refund"])
    _post(editor, agent, "tools_overlap", rows["lookup"], rows["search"])

    assert editor.get("/relationships", agent=agent.pk).json()["count"] == 3
    assert [item["kind"] for item in editor.get("/relationships", kind="overrides").json()["items"]] == ["overrides"]
    greet_id = Guideline.objects.get(key="greet").pk
    assert [item["kind"] for item in editor.get("/relationships", guideline=greet_id).json()["items"]] == ["entails"]
