"""The studio's versions pages: the history with the publish form, one version, diffs, rollback and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import BehaviorVersion, Guideline
from behavior.services.audit import SYSTEM, studio_actor
from behavior.services.guidelines import guideline_update
from behavior.services.versions import version_publish
from tests.factories import make_guideline
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lint_findings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The linter's findings for every agent (none unless a test adds some); caches start empty."""
    for cache in caches.all():
        cache.clear()
    findings: list[dict[str, Any]] = []
    monkeypatch.setattr("behavior.services.lint.agent_lint", lambda agent: list(findings))
    yield findings


def _finding(severity: str, message: str) -> dict[str, Any]:
    return {
        "severity": severity,
        "code": "test",
        "message": message,
        "entity": "guideline",
        "ref": "greet",
        "path": "guidelines[0]",
        "related": [],
    }


def _published(agent: Agent, **fields: Any) -> BehaviorVersion:
    make_guideline(agent, key="greet", condition="The customer says hello", action="Greet them", **fields)
    return version_publish(agent, actor=SYSTEM, note="First version")


def _urls(agent: Agent, number: int = 1) -> dict[str, str]:
    return {
        "list": reverse("studio:version-list", args=[agent.pk]),
        "detail": reverse("studio:version-detail", args=[agent.pk, number]),
        "diff": reverse("studio:version-diff", args=[agent.pk]),
        "rollback": reverse("studio:version-rollback", args=[agent.pk, number]),
        "export": reverse("studio:version-export", args=[agent.pk]),
        "publish": reverse("studio:version-publish", args=[agent.pk]),
    }


# ---------------------------------------------------------------- who may do what


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: Client, agent: Agent) -> None:
    _published(agent)
    for url in _urls(agent).values():
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


def test_an_outsider_gets_a_styled_refusal(outsider_client: Client, agent: Agent) -> None:
    _published(agent)
    for url in _urls(agent).values():
        response = outsider_client.get(url)
        assert response.status_code == 403, url
        assert "You may not open" in response.content.decode()


def test_a_tester_reads_versions_but_cannot_publish_or_roll_back(tester_client: Client, agent: Agent) -> None:
    _published(agent)
    urls = _urls(agent)
    for name in ("list", "detail", "diff", "export"):
        assert tester_client.get(urls[name]).status_code == 200, name
    assert tester_client.get(urls["rollback"]).status_code == 403
    assert tester_client.post(urls["publish"], {"note": "x"}).status_code == 403
    assert tester_client.post(urls["rollback"], {"confirm": "on"}).status_code == 403
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1


def test_a_tester_sees_no_publish_form(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(_urls(agent)["list"]).content.decode()
    assert 'id="publish-form"' not in html


def test_a_version_of_another_agent_is_not_found_under_this_agent(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    _published(other_agent)
    urls = _urls(agent)
    assert editor_client.get(urls["detail"]).status_code == 404
    assert editor_client.get(urls["rollback"]).status_code == 404
    assert editor_client.post(urls["rollback"], {"confirm": "on"}).status_code == 404
    assert editor_client.get(urls["diff"], {"base": "1", "other": "draft"}).status_code == 404
    assert editor_client.get(urls["export"], {"number": "1"}).status_code == 404


# ---------------------------------------------------------------- the history and publishing


def test_the_history_lists_each_version_with_its_note_author_and_counts(
    editor_client: Client, editor_user: Any, agent: Agent
) -> None:
    make_guideline(agent, key="greet")
    version_publish(agent, actor=studio_actor(editor_user), note="Greeting added")
    response = editor_client.get(_urls(agent)["list"])
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "v1" in html and "Greeting added" in html and "editor" in html
    assert "1 guideline" in html
    assert reverse("studio:version-detail", args=[agent.pk, 1]) in html


def test_the_history_answers_htmx_with_the_table_only(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    response = editor_client.get(_urls(agent)["list"], **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="version-table"' in html and "First version" in html


def test_an_agent_never_published_says_so(editor_client: Client, agent: Agent) -> None:
    html = editor_client.get(_urls(agent)["list"]).content.decode()
    assert "Nothing published yet" in html and "Never published" in html


def test_the_publish_button_says_how_many_changes_it_publishes(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    make_guideline(agent, key="refund")
    make_guideline(agent, key="goodbye")
    html = editor_client.get(_urls(agent)["list"]).content.decode()
    assert "Publish 2 changes</button>" in html


def test_an_editor_publishes_the_draft_with_a_note(editor_client: Client, editor_user: Any, agent: Agent) -> None:
    make_guideline(agent, key="greet")
    response = editor_client.post(_urls(agent)["publish"], {"note": "Ready for customers"})
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:version-detail", args=[agent.pk, 1])
    version = BehaviorVersion.objects.get(agent=agent)
    agent.refresh_from_db()
    assert version.note == "Ready for customers" and version.author == editor_user
    assert agent.published_version == version


def test_the_publish_link_of_the_overview_leads_to_the_publish_form(editor_client: Client, agent: Agent) -> None:
    response = editor_client.get(_urls(agent)["publish"])
    assert response.status_code == 302 and response["Location"].endswith("/versions/#publish")


def test_publishing_nothing_new_is_disabled_and_refused(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    html = editor_client.get(_urls(agent)["list"]).content.decode()
    assert "Publish 0 changes</button>" in html and "disabled" in html
    assert "nothing to publish" in html
    response = editor_client.post(_urls(agent)["publish"], {"note": ""})
    assert response.status_code == 422 and "nothing to publish" in response.content.decode()
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1


def test_lint_errors_block_publishing_and_are_listed(
    editor_client: Client, agent: Agent, lint_findings: list[dict[str, Any]]
) -> None:
    make_guideline(agent, key="greet")
    lint_findings.append(_finding("error", "Guideline greet contradicts guideline farewell"))
    html = editor_client.get(_urls(agent)["list"]).content.decode()
    assert "Guideline greet contradicts guideline farewell" in html
    assert "disabled" in html and "1 lint error" in html
    response = editor_client.post(_urls(agent)["publish"], {"note": "try anyway"})
    assert response.status_code == 422
    assert "Guideline greet contradicts guideline farewell" in response.content.decode()
    assert not BehaviorVersion.objects.filter(agent=agent).exists()


def test_lint_warnings_do_not_block_publishing(
    editor_client: Client, agent: Agent, lint_findings: list[dict[str, Any]]
) -> None:
    make_guideline(agent, key="greet")
    lint_findings.append(_finding("warning", "Guideline greet is vague"))
    html = editor_client.get(_urls(agent)["list"]).content.decode()
    assert "warnings do not block publishing" in html
    assert editor_client.post(_urls(agent)["publish"], {"note": ""}).status_code == 302
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1


def test_a_too_long_note_is_refused_beside_its_field(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, key="greet")
    response = editor_client.post(_urls(agent)["publish"], {"note": "x" * 2001})
    html = response.content.decode()
    assert response.status_code == 422
    block = html[html.index('id="field-note"') :]
    assert "at most 2000 characters" in block[: block.index("</div>")]
    assert not BehaviorVersion.objects.filter(agent=agent).exists()


def test_a_draft_with_validation_errors_is_refused_with_the_errors_listed(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, key="greet")
    Agent.objects.filter(pk=agent.pk).update(name="")  # an agent without a name is not a valid document
    response = editor_client.post(_urls(agent)["publish"], {"note": ""})
    assert response.status_code == 422
    assert "agent.name" in response.content.decode()
    assert not BehaviorVersion.objects.filter(agent=agent).exists()


# ---------------------------------------------------------------- one version, diffs


def test_a_version_page_shows_its_facts_and_document(tester_client: Client, agent: Agent) -> None:
    _published(agent)
    response = tester_client.get(_urls(agent)["detail"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Version 1" in html and "First version" in html and "The customer says hello" in html
    assert "published" in html


def test_a_missing_version_is_not_found(tester_client: Client, agent: Agent) -> None:
    assert tester_client.get(_urls(agent, 7)["detail"]).status_code == 404


def test_the_diff_defaults_to_the_published_version_against_the_draft(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    guideline = Guideline.objects.get(agent=agent, key="greet")
    guideline_update(guideline, data={"condition": "The customer says good morning"}, actor=SYSTEM)
    make_guideline(agent, key="refund")
    response = editor_client.get(_urls(agent)["diff"])
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "the published version (v1)" in html and "the draft" in html
    assert "Added (1)" in html and "refund" in html
    assert "<del>hello</del>" in html and "<ins>good morning</ins>" in html


def test_the_diff_compares_any_two_versions_and_answers_htmx_with_the_diff_only(
    editor_client: Client, agent: Agent
) -> None:
    _published(agent)
    make_guideline(agent, key="refund")
    version_publish(agent, actor=SYSTEM)
    response = editor_client.get(_urls(agent)["diff"], {"base": "2", "other": "1"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "From v2 to v1" in html and "Removed (1)" in html


def test_the_diff_from_nothing_lists_everything_as_added(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    html = editor_client.get(_urls(agent)["diff"], {"base": "empty", "other": "1"}).content.decode()
    assert "Added (1)" in html and "greet" in html


def test_identical_versions_have_no_differences(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    html = editor_client.get(_urls(agent)["diff"], {"base": "1", "other": "draft"}).content.decode()
    assert "No differences" in html


def test_a_malformed_compare_request_is_refused(editor_client: Client, agent: Agent) -> None:
    response = editor_client.get(_urls(agent)["diff"], {"base": "../../etc", "other": "draft"})
    assert response.status_code == 422


def test_hostile_texts_show_as_text_on_every_versions_page(editor_client: Client, agent: Agent) -> None:
    for index, text in enumerate(HOSTILE_TEXTS):
        make_guideline(agent, key=f"hostile-{index}", condition=f"The customer writes {text}", action=text)
    version_publish(agent, actor=SYSTEM, note=HOSTILE_TEXTS[0])
    for index, text in enumerate(HOSTILE_TEXTS):
        guideline = Guideline.objects.get(agent=agent, key=f"hostile-{index}")
        guideline_update(guideline, data={"condition": f"Now {text} again"}, actor=SYSTEM)
    urls = _urls(agent)
    pages = [
        editor_client.get(urls["list"]),
        editor_client.get(urls["detail"]),
        editor_client.get(urls["diff"]),
        editor_client.get(urls["diff"], {"base": "empty", "other": "1"}),
        editor_client.get(urls["rollback"]),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for text in HOSTILE_TEXTS:
            assert text not in html
    diff_html = pages[2].content.decode()
    for text in HOSTILE_TEXTS:
        assert_shown_as_text(diff_html, text)
    assert_shown_as_text(pages[0].content.decode(), HOSTILE_TEXTS[0])
    assert_shown_as_text(pages[1].content.decode(), HOSTILE_TEXTS[0])


# ---------------------------------------------------------------- rollback


def test_rolling_back_asks_for_confirmation_first(editor_client: Client, agent: Agent) -> None:
    _published(agent)
    make_guideline(agent, key="refund")
    response = editor_client.get(_urls(agent)["rollback"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 unpublished change" in html and "Removed (1)" in html
    response = editor_client.post(_urls(agent)["rollback"], {"note": ""})
    assert response.status_code == 422 and "Tick the box" in response.content.decode()
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1


def test_rolling_back_publishes_the_old_content_as_a_new_version(
    editor_client: Client, editor_user: Any, agent: Agent
) -> None:
    first = _published(agent)
    make_guideline(agent, key="refund")
    version_publish(agent, actor=SYSTEM, note="Refunds")
    response = editor_client.post(_urls(agent)["rollback"], {"confirm": "on", "note": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:version-detail", args=[agent.pk, 3])
    restored = BehaviorVersion.objects.get(agent=agent, number=3)
    agent.refresh_from_db()
    assert agent.published_version == restored
    assert restored.note == "Rollback to v1" and restored.author == editor_user
    assert restored.document["guidelines"] == first.document["guidelines"]
    assert list(Guideline.objects.filter(agent=agent).values_list("key", flat=True)) == ["greet"]
    assert BehaviorVersion.objects.filter(agent=agent).count() == 3


# ---------------------------------------------------------------- export


def test_the_draft_downloads_as_yaml_by_default(tester_client: Client, agent: Agent) -> None:
    make_guideline(agent, key="greet")
    response = tester_client.get(_urls(agent)["export"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="skyway-support-draft.yaml"'
    document = yaml.safe_load(response.content)
    assert [entry["key"] for entry in document["guidelines"]] == ["greet"]


def test_a_version_downloads_as_json(tester_client: Client, agent: Agent) -> None:
    _published(agent)
    make_guideline(agent, key="refund")
    response = tester_client.get(_urls(agent)["export"], {"format": "json", "number": "1"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="skyway-support-v1.json"'
    assert [entry["key"] for entry in json.loads(response.content)["guidelines"]] == ["greet"]


def test_an_unknown_export_format_is_refused(tester_client: Client, agent: Agent) -> None:
    assert tester_client.get(_urls(agent)["export"], {"format": "xml"}).status_code == 422
