"""The studio's history pages: every change to an agent with who, when, through what and each field's
before → after; filtered by user and by entity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import AuditEntry, AuditSource
from behavior.services.audit import Actor, studio_actor
from behavior.services.guidelines import guideline_create, guideline_delete, guideline_update
from behavior.services.importing import agent_import_document
from behavior.services.versions import version_publish
from tests.factories import make_user
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_lint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    monkeypatch.setattr("behavior.services.lint.agent_lint", lambda agent: [])
    yield


def _guideline(agent: Agent, user: Any, key: str = "greet", **data: Any) -> Any:
    values = {"key": key, "condition": "The customer says hello", "action": "Greet them", **data}
    return guideline_create(agent=agent, data=values, actor=studio_actor(user))


def _url(agent: Agent) -> str:
    return reverse("studio:audit-list", args=[agent.pk])


def test_who_may_read_the_history(
    client: Client, outsider_client: Client, tester_client: Client, agent: Agent, editor_user: Any
) -> None:
    guideline = _guideline(agent, editor_user)
    entry = AuditEntry.objects.get(entity_id=guideline.pk)
    detail = reverse("studio:audit-detail", args=[agent.pk, entry.pk])
    for url in (_url(agent), detail):
        assert client.get(url).status_code == 302
        response = outsider_client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode()
        assert tester_client.get(url).status_code == 200
        assert tester_client.post(url).status_code == 405


def test_an_entry_of_another_agent_is_not_found_here(
    tester_client: Client, agent: Agent, other_agent: Agent, editor_user: Any
) -> None:
    guideline = _guideline(other_agent, editor_user)
    entry = AuditEntry.objects.get(entity_id=guideline.pk)
    assert tester_client.get(reverse("studio:audit-detail", args=[agent.pk, entry.pk])).status_code == 404
    html = tester_client.get(_url(agent)).content.decode()
    assert "No changes recorded yet" in html


def test_the_history_shows_who_when_source_action_and_each_field_before_and_after(
    tester_client: Client, agent: Agent, editor_user: Any
) -> None:
    guideline = _guideline(agent, editor_user)
    guideline_update(guideline, data={"condition": "The customer says good morning"}, actor=studio_actor(editor_user))
    response = tester_client.get(_url(agent))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "editor" in html and "Studio" in html and "Update" in html and "Create" in html
    assert "<del>hello</del>" in html and "<ins>good morning</ins>" in html
    assert "condition" in html


def test_the_history_answers_htmx_with_the_entries_only(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    _guideline(agent, editor_user)
    response = tester_client.get(_url(agent), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="audit-entries"' in html


def test_the_history_filters_by_user(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    other_editor = make_user("ines", "editor")
    _guideline(agent, editor_user, key="by-editor")
    _guideline(agent, other_editor, key="by-ines")
    html = tester_client.get(_url(agent), {"user": other_editor.pk}).content.decode()
    assert "by-ines" in html and "by-editor" not in html
    assert f'<option value="{other_editor.pk}" selected>ines</option>' in html


def test_the_history_of_one_entity(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    greet = _guideline(agent, editor_user, key="greet")
    _guideline(agent, editor_user, key="refund")
    html = tester_client.get(_url(agent), {"entity_type": "guideline", "entity_id": greet.pk}).content.decode()
    assert "greet" in html and "refund" not in html
    assert "Showing the history of one guideline" in html


def test_malformed_filters_are_ignored(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    _guideline(agent, editor_user)
    response = tester_client.get(_url(agent), {"user": "abc", "entity_type": "<script>", "entity_id": "-3"})
    assert response.status_code == 200 and "greet" in response.content.decode()


def test_a_filter_that_matches_nothing_says_so(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    _guideline(agent, editor_user)
    html = tester_client.get(_url(agent), {"entity_type": "journey"}).content.decode()
    assert "No change matches these filters" in html


def test_an_entry_links_to_its_entity_while_it_exists(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    guideline = _guideline(agent, editor_user)
    version_publish(agent, actor=studio_actor(editor_user), note="v1")
    html = tester_client.get(_url(agent)).content.decode()
    assert reverse("studio:version-detail", args=[agent.pk, 1]) in html
    guideline_delete(guideline, actor=studio_actor(editor_user))
    html = tester_client.get(_url(agent)).content.decode()
    assert "Delete" in html and "greet" in html  # the deleted entity is still named, as text


def test_changes_through_the_api_and_imports_are_shown_with_their_source(
    tester_client: Client, agent: Agent, editor_user: Any
) -> None:
    guideline_create(
        agent=agent,
        data={"key": "via-api", "condition": "c", "action": "a"},
        actor=Actor(user=editor_user, source=AuditSource.API),
    )
    document = {
        "format": "decorum.behavior",
        "schema_version": 1,
        "agent": {"name": "Skyway Support"},
        "guidelines": [{"key": "imported", "condition": "The customer asks", "action": "Answer"}],
    }
    agent_import_document(document, actor=Actor(user=editor_user, source=AuditSource.IMPORT), replace_agent=agent)
    html = tester_client.get(_url(agent)).content.decode()
    assert "API" in html and "Import" in html
    assert "What the import changed in the draft" in html and "imported" in html


def test_the_history_pages_through_many_entries(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    for index in range(35):
        _guideline(agent, editor_user, key=f"rule-{index}")
    html = tester_client.get(_url(agent)).content.decode()
    assert "Page 1 of 2" in html and "rule-34" in html and "rule-0<" not in html
    html = tester_client.get(_url(agent), {"page": 2}).content.decode()
    assert "rule-0" in html


def test_one_entry_has_its_own_page(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    guideline = _guideline(agent, editor_user)
    entry = AuditEntry.objects.get(entity_id=guideline.pk)
    html = tester_client.get(reverse("studio:audit-detail", args=[agent.pk, entry.pk])).content.decode()
    assert "greet" in html and "The customer says hello" in html


def test_hostile_texts_show_as_text_in_the_history(tester_client: Client, agent: Agent, editor_user: Any) -> None:
    for index, text in enumerate(HOSTILE_TEXTS):
        guideline = _guideline(agent, editor_user, key=f"hostile-{index}", condition=text, action=text)
        guideline_update(guideline, data={"condition": f"Now {text}"}, actor=studio_actor(editor_user))
    entry = AuditEntry.objects.filter(agent=agent).first()
    assert entry is not None
    pages = [
        tester_client.get(_url(agent)).content.decode(),
        tester_client.get(reverse("studio:audit-detail", args=[agent.pk, entry.pk])).content.decode(),
    ]
    for html in pages:
        for text in HOSTILE_TEXTS:
            assert text not in html
    for text in HOSTILE_TEXTS:
        assert_shown_as_text(pages[0], text)
