"""The studio's Lint page: findings grouped by severity with links to their entities, who may open it and start
the LLM check, the full page vs the htmx fragment, the run's progress fragment polled until done, and hostile
texts shown as text."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import NoReverseMatch, reverse

from agents.models import Agent
from behavior.lint.contradictions import PURPOSE, ContradictionBatch, PairVerdict
from behavior.models import CannedResponse, Journey, LintRun, LintRunStatus
from tests.engine.fakes import FakeEmbedder, ScriptedLLM
from tests.factories import make_guideline, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text


@pytest.fixture(autouse=True)
def _fresh_lint(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Lint results are cached per draft revision (factories do not bump it) and the embedder is a fake."""
    cache.clear()
    settings.TURNS_RUN_INLINE = True
    monkeypatch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    def every_pair_contradicts(request: Any, schema: Any) -> ContradictionBatch:
        count = request.messages[-1].content.count("Pair ")
        return ContradictionBatch(
            verdicts=[
                PairVerdict(pair=n, rationale="r", contradicts=True, explanation=HOSTILE_TEXTS[1])
                for n in range(1, count + 1)
            ]
        )

    model = ScriptedLLM().on(PURPOSE, every_pair_contradicts)
    monkeypatch.setattr("behavior.services.lint.lint_llm_for", lambda agent: model)
    return model


@pytest.fixture
def broken(agent: Agent) -> Agent:
    """A draft with one error of each of two entities and a warning."""
    Journey.objects.create(agent=agent, key="rebooking", title="Rebook")
    CannedResponse.objects.create(agent=agent, key="status", template="It is {{ booking_status }}.")
    make_tool(agent, "forgotten_tool")
    return agent


def lint_url(agent: Agent) -> str:
    return reverse("studio:lint", args=[agent.pk])


def test_the_page_groups_findings_by_severity_and_says_errors_block_publishing(
    tester_client: Client, broken: Agent
) -> None:
    response = tester_client.get(lint_url(broken))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'id="lint-error"' in html and 'id="lint-warning"' in html
    assert html.index('id="lint-error"') < html.index('id="lint-warning"')
    assert "rebooking" in html and "booking_status" in html and "forgotten_tool" in html
    assert "Publishing is blocked" in html


def test_a_clean_draft_says_so(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(lint_url(agent)).content.decode()
    assert "No problems found in the draft." in html and "Publishing is blocked" not in html


def test_an_htmx_request_gets_only_the_findings_fragment(tester_client: Client, broken: Agent) -> None:
    html = tester_client.get(lint_url(broken), **HX).content.decode()
    assert "<html" not in html and 'id="lint-findings"' in html and "rebooking" in html


def test_findings_link_to_their_entity_page_when_that_page_exists(tester_client: Client, agent: Agent) -> None:
    first = make_guideline(agent, "refunds", condition="The customer asks for a refund", action="Explain it")
    make_guideline(agent, "refunds-again", condition="The customer asks for a refund", action="Explain it")
    html = tester_client.get(lint_url(agent)).content.decode()
    assert "refunds-again" in html
    try:
        url = reverse("studio:guideline-detail", args=[agent.pk, first.pk])
    except NoReverseMatch:
        return
    assert f'href="{url}"' in html


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, agent: Agent) -> None:
    for response in (
        client.get(lint_url(agent)),
        client.post(reverse("studio:lint-run-create", args=[agent.pk])),
    ):
        assert response.status_code == 302 and "login" in response["Location"]


def test_an_outsider_may_not_open_the_lint_page_or_a_run(outsider_client: Client, agent: Agent) -> None:
    run = LintRun.objects.create(agent=agent)
    for url in (lint_url(agent), reverse("studio:lint-run-detail", args=[agent.pk, run.pk])):
        response = outsider_client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode()


def test_a_tester_reads_the_lint_but_cannot_start_the_llm_check(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(lint_url(agent)).content.decode()
    assert "Check for contradictions with the LLM" not in html
    response = tester_client.post(reverse("studio:lint-run-create", args=[agent.pk]))
    assert response.status_code == 403
    assert not LintRun.objects.exists()


def test_the_run_pages_only_answer_get_and_post(editor_client: Client, agent: Agent) -> None:
    assert editor_client.get(reverse("studio:lint-run-create", args=[agent.pk])).status_code == 405
    assert editor_client.post(lint_url(agent)).status_code == 405


def test_an_editor_starts_the_check_and_sees_the_stored_contradictions(
    editor_client: Client, agent: Agent, llm: ScriptedLLM, django_capture_on_commit_callbacks: Any
) -> None:
    make_guideline(agent, "refund-yes", condition="The customer asks for a refund", action="Grant the refund")
    make_guideline(agent, "refund-no", condition="The customer asks for a refund", action="Refuse the refund")
    assert "Check for contradictions with the LLM" in editor_client.get(lint_url(agent)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("studio:lint-run-create", args=[agent.pk]))

    run = LintRun.objects.get(agent=agent)
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:lint-run-detail", args=[agent.pk, run.pk])
    assert run.status == LintRunStatus.DONE and run.findings
    html = editor_client.get(lint_url(agent)).content.decode()
    assert "may contradict each other" in html and "On the current draft" in html
    assert_shown_as_text(html, HOSTILE_TEXTS[1])


def test_starting_the_check_with_htmx_swaps_in_the_run_fragment(
    editor_client: Client, agent: Agent, llm: ScriptedLLM
) -> None:
    response = editor_client.post(reverse("studio:lint-run-create", args=[agent.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="lint-run"' in html


def test_a_running_check_polls_its_progress_every_second_and_a_finished_one_stops(
    tester_client: Client, agent: Agent
) -> None:
    run = LintRun.objects.create(agent=agent, status=LintRunStatus.RUNNING, progress_done=3, progress_total=12)
    url = reverse("studio:lint-run-detail", args=[agent.pk, run.pk])
    fragment = tester_client.get(url, **HX).content.decode()
    assert "<html" not in fragment
    assert 'hx-trigger="every 1s"' in fragment and f'hx-get="{url}"' in fragment
    assert "Checking 3 of 12 pairs" in fragment and 'value="25"' in fragment
    page = tester_client.get(url).content.decode()
    assert "<html" in page and 'http-equiv="refresh"' in page

    LintRun.objects.filter(pk=run.pk).update(status=LintRunStatus.DONE, progress_done=12)
    fragment = tester_client.get(url, **HX).content.decode()
    assert "every 1s" not in fragment and "No contradictions found." in fragment


def test_a_run_says_when_the_draft_changed_since(tester_client: Client, agent: Agent) -> None:
    run = LintRun.objects.create(agent=agent, status=LintRunStatus.DONE, draft_revision=0)
    Agent.objects.filter(pk=agent.pk).update(draft_revision=5)
    html = tester_client.get(reverse("studio:lint-run-detail", args=[agent.pk, run.pk])).content.decode()
    assert "The draft changed since" in html


def test_a_failed_run_shows_its_error(tester_client: Client, agent: Agent) -> None:
    run = LintRun.objects.create(agent=agent, status=LintRunStatus.FAILED, error="The check failed: no model")
    html = tester_client.get(reverse("studio:lint-run-detail", args=[agent.pk, run.pk]), **HX).content.decode()
    assert "The check failed: no model" in html


def test_a_run_of_another_agent_is_not_found_under_this_agent(
    tester_client: Client, agent: Agent, other_agent: Agent
) -> None:
    run = LintRun.objects.create(agent=other_agent)
    assert tester_client.get(reverse("studio:lint-run-detail", args=[agent.pk, run.pk])).status_code == 404
    assert tester_client.get(reverse("studio:lint-run-detail", args=[other_agent.pk, run.pk])).status_code == 200


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_in_a_guideline_condition_is_shown_as_text_in_the_findings(
    tester_client: Client, agent: Agent, text: str
) -> None:
    make_guideline(agent, "first", condition=f"The customer writes {text}", action="Answer calmly")
    make_guideline(agent, "second", condition=f"The customer writes {text}", action="Answer calmly")
    html = tester_client.get(lint_url(agent)).content.decode()
    assert "duplicate" in html.lower() or "repeats" in html
    assert_shown_as_text(html, text)
