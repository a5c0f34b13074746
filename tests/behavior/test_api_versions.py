"""Publishing, listing and diffing versions, and exporting/importing behavior documents over the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from agents.models import Agent
from behavior.models import BehaviorVersion, Guideline, Journey
from behavior.services import agent_export_document
from tests.api_helpers import api_client, assert_error
from tests.factories import make_guideline, make_journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


def _document(name: str, **sections: Any) -> dict[str, Any]:
    return {"format": "decorum.behavior", "schema_version": 1, "agent": {"name": name}, **sections}


def test_publishing_numbers_versions_and_marks_the_latest_published(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet")
    first = editor.post(f"/agents/{agent.pk}/publish", {"note": "launch"})
    make_guideline(agent, "refund")
    second = editor.post(f"/agents/{agent.pk}/publish")

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["number"], first.json()["note"], second.json()["number"]) == (1, "launch", 2)
    assert second.json()["published"] is True
    agent.refresh_from_db()
    assert agent.published_version.number == 2
    assert editor.get(f"/agents/{agent.pk}").json()["published_version"] == 2
    listed = editor.get(f"/agents/{agent.pk}/versions").json()
    assert [item["number"] for item in listed["items"]] == [2, 1]
    assert [item["published"] for item in listed["items"]] == [True, False]
    assert "document" not in listed["items"][0]


def test_a_draft_with_errors_is_not_published_and_the_errors_have_paths(editor: Any, agent: Agent) -> None:
    journey = make_journey(agent, "broken", states=("a", "b"))
    journey.states.update(initial=False)

    body = assert_error(editor.post(f"/agents/{agent.pk}/publish", {"note": "oops"}), 422, "validation_failed")

    assert body["details"][0]["path"] == "journeys[0].states"
    assert not BehaviorVersion.objects.exists()


def test_a_version_is_returned_with_its_frozen_document(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet")
    editor.post(f"/agents/{agent.pk}/publish")
    Guideline.objects.filter(key="greet").update(condition="Changed after publishing")

    version = editor.get(f"/agents/{agent.pk}/versions/1").json()

    assert version["number"] == 1
    assert version["document"]["guidelines"][0]["condition"] == "The customer asks for help"
    assert_error(editor.get(f"/agents/{agent.pk}/versions/7"), 404, "not_found")


def test_the_diff_compares_versions_and_the_draft(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet")
    editor.post(f"/agents/{agent.pk}/publish")
    make_guideline(agent, "refund")
    Guideline.objects.filter(key="greet").update(action="Wave")
    editor.post(f"/agents/{agent.pk}/publish")
    make_guideline(agent, "angry", action=None)

    between = editor.get(f"/agents/{agent.pk}/versions/1/diff/2").json()
    to_draft = editor.get(f"/agents/{agent.pk}/versions/2/diff/draft").json()

    guidelines = next(entry for entry in between["changes"] if entry["kind"] == "guidelines")
    assert guidelines["added"] == ["refund"]
    assert guidelines["changed"][0]["key"] == "greet"
    assert guidelines["changed"][0]["changes"] == [{"field": "action", "old": "Offer help", "new": "Wave"}]
    assert (to_draft["base"], to_draft["other"]) == ("2", "draft")
    assert next(entry for entry in to_draft["changes"] if entry["kind"] == "guidelines")["added"] == ["angry"]
    assert editor.get(f"/agents/{agent.pk}/versions/draft/diff/draft").json()["changes"] == []
    assert_error(editor.get(f"/agents/{agent.pk}/versions/1/diff/9"), 404)
    assert_error(editor.get(f"/agents/{agent.pk}/versions/one/diff/draft"), 422)


def test_export_as_json_and_yaml_is_the_draft_document(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet")
    make_journey(agent, "refund")
    expected = agent_export_document(agent)

    as_json = editor.get(f"/agents/{agent.pk}/export")
    as_yaml = editor.get(f"/agents/{agent.pk}/export", format="yaml")

    assert as_json["Content-Type"].startswith("application/json")
    assert json.loads(as_json.content) == expected
    assert as_yaml["Content-Type"].startswith("text/yaml")
    assert yaml.safe_load(as_yaml.content) == expected
    assert "skyway-support-draft.yaml" in as_yaml["Content-Disposition"]
    assert_error(editor.get(f"/agents/{agent.pk}/export", format="xml"), 422)


def test_export_of_a_version_is_its_frozen_document(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet")
    editor.post(f"/agents/{agent.pk}/publish")
    make_guideline(agent, "later")

    exported = editor.get(f"/agents/{agent.pk}/export", version="1").json()

    assert [guideline["key"] for guideline in exported["guidelines"]] == ["greet"]
    assert_error(editor.get(f"/agents/{agent.pk}/export", version="3"), 404)


def test_import_of_json_creates_an_agent(editor: Any) -> None:
    document = _document(
        "Imported",
        guidelines=[{"key": "greet", "condition": "The customer says hi", "action": "Say hi"}],
        journeys=[
            {
                "key": "refund",
                "title": "Refund",
                "states": [{"key": "ask", "action": "Ask why", "initial": True}, {"key": "done", "kind": "end"}],
                "transitions": [{"source": "ask", "target": "done"}],
            }
        ],
    )

    response = editor.post("/agents/import", document)

    assert response.status_code == 201
    agent = Agent.objects.get(name="Imported")
    assert response.json()["id"] == agent.pk
    assert list(agent.guidelines.values_list("key", flat=True)) == ["greet"]
    assert agent.journeys.get().transitions.count() == 1


def test_import_of_yaml_with_a_yaml_content_type(editor: Any) -> None:
    text = yaml.safe_dump(_document("From YAML", guidelines=[{"key": "greet", "condition": "Hi"}]))
    response = editor.post("/agents/import", raw=text, content_type="application/yaml")
    assert response.status_code == 201
    assert Agent.objects.get(name="From YAML").guidelines.get().is_observation


def test_an_invalid_document_changes_nothing_and_lists_every_error_path(editor: Any) -> None:
    agents_before = Agent.objects.count()
    document = _document(
        "Broken",
        guidelines=[{"key": "greet", "condition": "Hi", "tools": ["missing_tool"]}],
        journeys=[
            {
                "key": "j",
                "title": "J",
                "states": [{"key": "a", "action": "x"}],
                "transitions": [{"source": "a", "target": "payment"}],
            }
        ],
    )

    body = assert_error(editor.post("/agents/import", document), 422, "validation_failed")

    paths = {detail["path"] for detail in body["details"]}
    assert {"guidelines[0].tools[0]", "journeys[0].transitions[0].target"} <= paths
    assert any('unknown state "payment"' in detail["message"] for detail in body["details"])
    assert Agent.objects.count() == agents_before
    assert not Journey.objects.exists()


def test_importing_an_existing_name_is_a_409_and_replace_updates_the_draft(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "old")
    document = _document(agent.name, guidelines=[{"key": "new", "condition": "c", "action": "a"}])

    assert_error(editor.post("/agents/import", document), 409, "conflict")
    assert list(agent.guidelines.values_list("key", flat=True)) == ["old"]

    replaced = editor.post(f"/agents/import?replace={agent.pk}", document)

    assert replaced.status_code == 200
    assert replaced.json()["id"] == agent.pk
    assert list(agent.guidelines.values_list("key", flat=True)) == ["new"]
    assert_error(editor.post("/agents/import?replace=424242", document), 404, "not_found")


def test_an_exported_yaml_document_imports_back_unchanged(editor: Any, agent: Agent) -> None:
    make_guideline(agent, "greet", tags=[])
    make_journey(agent, "refund", states=("ask", "done"))
    before = agent_export_document(agent)
    exported = editor.get(f"/agents/{agent.pk}/export", format="yaml").content

    replaced = editor.post(f"/agents/import?replace={agent.pk}", raw=exported, content_type="text/yaml")

    assert replaced.status_code == 200
    agent.refresh_from_db()
    assert agent_export_document(agent) == before


@pytest.mark.parametrize(
    ("raw", "content_type", "code"),
    [
        ("{not json", "application/json", "invalid_json"),
        ("a: [1, 2", "application/yaml", "invalid_yaml"),
        ("", "application/json", "invalid_json"),
    ],
)
def test_a_body_that_does_not_parse_is_a_400(editor: Any, raw: str, content_type: str, code: str) -> None:
    body = assert_error(editor.post("/agents/import", raw=raw, content_type=content_type), 400, code)
    assert "line" in body["message"] or "valid" in body["message"]


def test_an_imported_document_with_a_nul_character_is_refused_with_its_path(editor: Any) -> None:
    body = assert_error(
        editor.post("/agents/import", _document("Nul", guidelines=[{"key": "g", "condition": "a\u0000b"}])), 422
    )
    assert body["details"] == [{"path": "guidelines[0].condition", "message": "Text must not contain NUL characters."}]
    assert not Agent.objects.filter(name="Nul").exists()


def test_an_oversized_import_is_a_413(editor: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    document = _document("Big", guidelines=[{"key": f"g{index}", "condition": "x" * 100} for index in range(50)])
    assert_error(editor.post("/agents/import", document), 413, "payload_too_large")
    assert not Agent.objects.filter(name="Big").exists()
