"""Importing a behavior document from a file in the studio: replacing an agent's draft or creating an agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.forms import versions as version_forms
from behavior.models import AuditEntry, Guideline
from behavior.services.exporting import agent_export_document
from tests.factories import make_guideline
from tests.support.studio import HOSTILE_TEXTS, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_lint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    monkeypatch.setattr("behavior.services.lint.agent_lint", lambda agent: [])
    yield


def _document(name: str = "Imported Agent", *guidelines: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "decorum.behavior",
        "schema_version": 1,
        "agent": {"name": name},
        "guidelines": list(guidelines),
    }


def _upload(document: Any, name: str = "agent.yaml") -> SimpleUploadedFile:
    text = json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document)
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def _import_url(agent: Agent) -> str:
    return reverse("studio:agent-import", args=[agent.pk])


def test_only_editors_open_the_import_pages(
    client: Client, outsider_client: Client, tester_client: Client, editor_client: Client, agent: Agent
) -> None:
    for url in (_import_url(agent), reverse("studio:agent-import-new")):
        assert client.get(url).status_code == 302
        assert outsider_client.get(url).status_code == 403
        assert tester_client.get(url).status_code == 403
        assert tester_client.post(url, {"file": _upload(_document())}).status_code == 403
        response = editor_client.get(url)
        assert response.status_code == 200 and 'enctype="multipart/form-data"' in response.content.decode()
    assert not Agent.objects.filter(name="Imported Agent").exists()


def test_the_agent_list_links_the_new_agent_import(editor_client: Client) -> None:
    html = editor_client.get(reverse("studio:agent-list")).content.decode()
    assert reverse("studio:agent-import-new") in html


def test_an_editor_replaces_an_agents_draft_with_a_file(editor_client: Client, editor_user: Any, agent: Agent) -> None:
    make_guideline(agent, key="old-rule")
    document = _document("Skyway Support", {"key": "greet", "condition": "The customer says hello", "action": "Greet"})
    response = editor_client.post(_import_url(agent), {"file": _upload(document)})
    assert response.status_code == 302 and response["Location"] == reverse("studio:agent-detail", args=[agent.pk])
    assert list(Guideline.objects.filter(agent=agent).values_list("key", flat=True)) == ["greet"]
    entry = AuditEntry.objects.filter(agent=agent, action="import").get()
    assert entry.user == editor_user and entry.source == "studio"


def test_a_file_with_errors_changes_nothing_and_lists_every_problem_by_path(
    editor_client: Client, agent: Agent
) -> None:
    make_guideline(agent, key="old-rule")
    before = agent_export_document(agent)
    document = _document(
        "Skyway Support",
        {"key": "greet", "action": "Greet"},  # no condition
        {"key": "Not A Key!", "condition": "x", "action": "y"},
    )
    response = editor_client.post(_import_url(agent), {"file": _upload(document, "agent.json")})
    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was imported" in html
    assert "guidelines[0].condition" in html and "guidelines[1].key" in html
    assert agent_export_document(agent) == before
    assert not AuditEntry.objects.filter(agent=agent, action="import").exists()


def test_a_file_that_does_not_parse_says_where(editor_client: Client, agent: Agent) -> None:
    upload = SimpleUploadedFile("agent.json", b'{"format": "decorum.behavior",,}')
    response = editor_client.post(_import_url(agent), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 422
    block = html[html.index('id="field-file"') :]
    assert "The file is not valid JSON: line 1" in block[: block.index("</div>")]


def test_a_file_that_is_not_a_document_is_refused(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(_import_url(agent), {"file": _upload(["a", "list"])})
    assert response.status_code == 422 and "Nothing was imported" in response.content.decode()


def test_a_file_of_another_kind_is_refused_beside_the_file_field(editor_client: Client, agent: Agent) -> None:
    upload = SimpleUploadedFile("agent.txt", b"hello")
    response = editor_client.post(_import_url(agent), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 422
    block = html[html.index('id="field-file"') :]
    assert "Choose a .yaml, .yml or .json file." in block[: block.index("</div>")]


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(
    editor_client: Client, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(version_forms, "IMPORT_MAX_BYTES", 1024)
    upload = SimpleUploadedFile("agent.yaml", b"#" * 2048)
    response = editor_client.post(_import_url(agent), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 422
    block = html[html.index('id="field-file"') :]
    assert "The file is 2 KB; the limit is 1 KB." in block[: block.index("</div>")]


def test_an_editor_creates_a_new_agent_from_a_file(editor_client: Client) -> None:
    document = _document("Harbor Bank", {"key": "greet", "condition": "The customer says hello", "action": "Greet"})
    response = editor_client.post(reverse("studio:agent-import-new"), {"file": _upload(document, "bank.yml")})
    agent = Agent.objects.get(name="Harbor Bank")
    assert response.status_code == 302 and response["Location"] == reverse("studio:agent-detail", args=[agent.pk])
    assert list(agent.guidelines.values_list("key", flat=True)) == ["greet"]


def test_a_new_agent_whose_name_is_taken_is_refused(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(reverse("studio:agent-import-new"), {"file": _upload(_document("Skyway Support"))})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    assert Agent.objects.filter(name="Skyway Support").count() == 1


def test_hostile_texts_in_an_import_error_show_as_text(editor_client: Client, agent: Agent) -> None:
    for text in HOSTILE_TEXTS:
        document = _document("Skyway Support", {"key": "greet", "condition": "x", "action": "y", text: 1})
        response = editor_client.post(_import_url(agent), {"file": _upload(document)})
        assert response.status_code == 422
        assert_shown_as_text(response.content.decode(), text)
