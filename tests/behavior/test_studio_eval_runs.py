"""The studio's evaluation pages: starting a run (and the form's validation), its live progress fragment polled until
it finishes, cancelling, the figures, each failed assertion with its cause and a link to the turn's trace, coverage
linked to the entities, one attempt's page, comparing two runs (regressions first), the check before publishing,
and who may see all this (testers and editors; operators and outsiders are refused; another agent's run is a 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agents.models import Agent
from behavior.demo.seeding import demo_seed
from behavior.evaluations.cases import case_create
from behavior.evaluations.models import EvalResult, EvalRun, ResultStatus, RunPurpose, RunStatus
from behavior.evaluations.runs import run_create
from behavior.models import BehaviorVersion, Guideline
from behavior.services.audit import studio_actor
from behavior.services.guidelines import guideline_update
from tests.factories import make_agent
from tests.support.engine_responder import HeuristicLLM
from tests.support.realtime import realtime_settings
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = HOSTILE_TEXTS[0]


@pytest.fixture(autouse=True)
def _turns_inline_with_the_scripted_model(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    realtime_settings(settings)
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: HeuristicLLM())


def _case(agent: Agent, editor: Any, key: str, message: str, *assertions: dict[str, Any], **extra: Any) -> None:
    data = {"key": key, "name": extra.pop("name", key), "turns": [{"message": message, "assertions": list(assertions)}]}
    case_create(agent=agent, data={**data, **extra}, actor=editor)


@pytest.fixture
def demo(editor_user: Any) -> tuple[Agent, BehaviorVersion]:
    """The Skyway demo (published as v1) with three cases of ours: a bag that goes missing (its journey starts, but the
    refund guideline and a hostile text in the reply are expected in vain), a greeting that passes, and a
    simulated customer."""
    agent, version = demo_seed()
    agent.refresh_from_db()
    agent.eval_cases.all().delete()  # the demo's own suite is checked by its own tests; these three are known
    _case(
        agent,
        editor_user,
        "missing-bag",
        "My bag did not arrive at the belt, I lost my suitcase",
        {"type": "journey_entered", "journey": "baggage-claim"},
        {"type": "guideline_matched", "guideline": "refund-policy", "note": "refunds come first"},
        {"type": "reply_contains", "text": HOSTILE},
        name=f"Missing bag {HOSTILE}",
        tags=["baggage"],
    )
    _case(agent, editor_user, "greeting", "Hello there!", {"type": "guideline_matched", "guideline": "greet"})
    case_create(
        agent=agent,
        data={
            "key": "rebook-simulated",
            "name": "Rebook by a simulated customer",
            "kind": "simulated",
            "simulation": {"persona": "A busy traveller", "goal": "Move flight SK101 to tomorrow", "max_turns": 2},
            "assertions": [{"type": "no_handoff"}],
        },
        actor=editor_user,
    )
    agent.refresh_from_db()
    return agent, version


def runs_url(agent: Agent) -> str:
    return reverse("studio:eval-run-list", args=[agent.pk])


def detail_url(run: EvalRun) -> str:
    return reverse("studio:eval-run-detail", args=[run.agent_id, run.pk])


def start(agent: Agent, user: Any, **options: Any) -> EvalRun:
    run = run_create(agent=agent, version=options.pop("version", None), actor=user, **options)
    run.refresh_from_db()
    return run


# ---------------------------------------------------------------------------------------------- the list and the form


def test_the_list_explains_runs_and_says_there_are_no_cases_yet(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(runs_url(agent)).content.decode()
    assert "No run yet." in html and "pass^k" in html
    assert "no test cases yet" in html
    assert 'id="run-form"' not in html


def test_the_list_shows_runs_newest_first_with_their_figures(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, version = demo
    older = start(agent, tester_user, keys=["greeting"], version=version)
    newer = start(agent, tester_user, keys=["greeting", "missing-bag"], repeats=2)
    html = tester_client.get(runs_url(agent)).content.decode()
    assert 'id="run-form"' in html and "3 test cases" in html
    assert html.index(f'id="eval-run-{newer.pk}-row"') < html.index(f'id="eval-run-{older.pk}-row"')
    assert "v1" in html and "draft (revision" in html
    assert "2 \u00d7 2" in html and "1 \u00d7 1" in html  # cases times repeats
    assert "100%" in html  # the greeting passes
    assert "tester" in html


def test_the_run_form_refuses_numbers_out_of_range_beside_their_fields(
    tester_client: Client, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    response = tester_client.post(
        reverse("studio:eval-run-create", args=[agent.pk]),
        {"version": "7", "repeats": "0", "concurrency": "999", "min_pass_rate": "150"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "This agent has no version 7." in html
    assert "greater than or equal to 1" in html
    assert "At most 16 at once" in html
    assert "less than or equal to 100" in html
    assert not EvalRun.objects.exists()


def test_an_unknown_case_key_is_refused_and_nothing_runs(
    tester_client: Client, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    response = tester_client.post(
        reverse("studio:eval-run-create", args=[agent.pk]),
        {"version": "draft", "keys": "no-such-case", "repeats": "1", "concurrency": "2", "min_pass_rate": "100"},
    )
    assert response.status_code == 422
    assert "no test case with the key" in response.content.decode()
    assert not EvalRun.objects.exists()


def test_tags_that_select_no_case_say_so(tester_client: Client, demo: tuple[Agent, BehaviorVersion]) -> None:
    agent, _version = demo
    response = tester_client.post(
        reverse("studio:eval-run-create", args=[agent.pk]),
        {"version": "draft", "tags": "nothing-has-it", "repeats": "1", "concurrency": "2", "min_pass_rate": "100"},
    )
    assert response.status_code == 422
    assert "No test case has the tag nothing-has-it." in response.content.decode()


def test_starting_a_run_of_some_cases_goes_to_its_page(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    response = tester_client.post(
        reverse("studio:eval-run-create", args=[agent.pk]),
        {
            "version": "published",
            "keys": ["greeting", "missing-bag"],
            "repeats": "2",
            "concurrency": "3",
            "min_pass_rate": "90",
        },
    )
    run = EvalRun.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(run)
    assert (run.version.number, run.repeats, run.concurrency, run.min_pass_rate) == (1, 2, 3, 0.9)
    assert run.created_by == tester_user and run.purpose == RunPurpose.MANUAL
    assert sorted(set(run.results.values_list("case_key", flat=True))) == ["greeting", "missing-bag"]
    assert run.status == RunStatus.FAILED  # turns and attempts ran inline: missing-bag fails


# ---------------------------------------------------------------------------------------------- one run


def test_the_finished_run_shows_its_figures_and_each_failure_with_its_cause_and_trace(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, repeats=2)
    html = tester_client.get(detail_url(run)).content.decode()
    for label in (
        "Pass rate",
        "pass^2",
        "pass@2",
        "Assertion compliance",
        "Tool-call accuracy",
        "Turns to goal",
        "LLM calls",
        "Tokens",
        "Latency p50",
        "Latency p95",
        "Cost estimate",
    ):
        assert label in html, label
    assert "The run is below its minimum pass rate." in html
    cause = "guideline refund-policy not matched: the model judged 'The customer asks for a refund' false"
    assert escape(cause) in html
    assert "refunds come first" in html  # the assertion's note
    assert_shown_as_text(html, f"Missing bag {HOSTILE}")
    assert f"the reply does not contain {escape(repr(HOSTILE))}" in html  # the cause quotes the assertion's text
    attempt = run.results.get(case_key="missing-bag", repeat=0)
    trace = reverse("sandbox:trace", args=[attempt.session.uid, attempt.turns[0]["turn_id"]])
    assert f'href="{trace}"' in html and "open trace" in html
    assert html.index('id="case-missing-bag"') < html.index('id="case-greeting"')  # failing cases first
    assert "attempts 1, 2" in html  # the same failure in both repeats, shown once


def test_the_trace_link_opens_the_turns_explanation_for_a_tester(
    tester_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, editor_user, keys=["missing-bag"])
    attempt = run.results.get()
    response = tester_client.get(reverse("sandbox:trace", args=[attempt.session.uid, attempt.turns[0]["turn_id"]]))
    assert response.status_code == 200
    assert "Why the agent said it" in response.content.decode()


def test_the_draft_changing_during_a_run_is_flagged(
    tester_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, editor_user, keys=["greeting"])
    EvalRun.objects.filter(pk=run.pk).update(summary={**run.summary, "draft_changed": True})
    assert "The draft was edited while this run went" in tester_client.get(detail_url(run)).content.decode()


def test_coverage_lists_what_was_never_exercised_with_links_to_the_entities(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, keys=["greeting"])
    html = tester_client.get(detail_url(run)).content.decode()
    refund = Guideline.objects.get(agent=agent, key="refund-policy")
    journey = agent.journeys.get(key="rebooking")
    canned = agent.canned_responses.get(key="rebooking-confirmed")
    tool = agent.tools.get(name="rebook_flight")
    for title in (
        "Guidelines never active",
        "Journey states never reached",
        "Transitions never taken",
        "Canned responses never chosen",
        "Tools never called",
    ):
        assert title in html, title
    assert reverse("studio:guideline-detail", args=[agent.pk, refund.pk]) in html
    assert reverse("studio:journey-detail", args=[agent.pk, journey.pk]) in html
    assert reverse("studio:canned-response-detail", args=[agent.pk, canned.pk]) in html
    assert reverse("studio:tool-detail", args=[agent.pk, tool.pk]) in html
    assert "ask-booking → lookup" in html
    greet = reverse("studio:guideline-detail", args=[agent.pk, Guideline.objects.get(agent=agent, key="greet").pk])
    assert greet not in html.split('id="coverage-guidelines"')[1].split("</div>")[0]  # it was active


def test_the_progress_fragment_polls_while_the_run_waits_and_answers_the_results_once_finished(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    waiting = start(agent, tester_user, keys=["greeting"], repeats=2, start=False)
    url = reverse("studio:eval-run-progress", args=[agent.pk, waiting.pk])
    html = tester_client.get(url, **HX).content.decode()
    assert "<html" not in html and f'id="eval-run-{waiting.pk}"' in html
    assert 'hx-trigger="every 1s"' in html and f'hx-get="{url}"' in html
    assert "0 of 2" in html and "2 waiting" in html
    assert "Cancel the run" in html
    page = tester_client.get(detail_url(waiting)).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<noscript>" in page

    finished = start(agent, tester_user, keys=["greeting"])
    html = tester_client.get(reverse("studio:eval-run-progress", args=[agent.pk, finished.pk]), **HX).content.decode()
    assert "hx-trigger" not in html
    assert "Pass rate" in html and "Cancel the run" not in html


def test_cancelling_a_waiting_run_cancels_its_attempts(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, repeats=2, start=False)
    response = tester_client.post(reverse("studio:eval-run-cancel", args=[agent.pk, run.pk]))
    assert response.status_code == 302 and response["Location"] == detail_url(run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.cancel_requested
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.CANCELLED}
    html = tester_client.get(detail_url(run)).content.decode()
    assert "The run was cancelled" in html


def test_cancelling_over_htmx_answers_the_live_region_without_polling(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, start=False)
    html = tester_client.post(reverse("studio:eval-run-cancel", args=[agent.pk, run.pk]), **HX).content.decode()
    assert f'id="eval-run-{run.pk}"' in html and "hx-trigger" not in html and "Cancelled" in html


def test_cancelling_a_finished_run_changes_nothing(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, keys=["greeting"])
    response = tester_client.post(reverse("studio:eval-run-cancel", args=[agent.pk, run.pk]), follow=True)
    assert "had already finished" in response.content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED and not run.cancel_requested


# ---------------------------------------------------------------------------------------------- one attempt


def test_the_attempt_page_shows_the_conversation_tools_journeys_and_every_assertion(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, keys=["missing-bag"])
    attempt = run.results.get()
    html = tester_client.get(reverse("studio:eval-result-detail", args=[agent.pk, run.pk, attempt.pk])).content.decode()
    assert "My bag did not arrive at the belt" in html
    assert escape(attempt.turns[0]["reply"]) in html
    assert "travel_alerts" in html  # the tool the turn ran
    assert "baggage-claim" in html and "ask-details" in html  # the journey move
    assert "1 of 3 assertions held" in html
    assert html.count("assertion-pass") == 1 and html.count("assertion-fail") == 2
    assert "the model judged" in html
    assert reverse("sandbox:trace", args=[attempt.session.uid, attempt.turns[0]["turn_id"]]) in html
    assert reverse("sandbox:session", args=[attempt.session.uid]) in html
    assert_shown_as_text(html, HOSTILE)


def test_the_attempt_page_of_a_simulated_case_shows_the_customers_outcome(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, keys=["rebook-simulated"])
    attempt = run.results.get()
    html = tester_client.get(reverse("studio:eval-result-detail", args=[agent.pk, run.pk, attempt.pk])).content.decode()
    assert "The simulated customer" in html
    assert "A busy traveller" in html and "Move flight SK101 to tomorrow" in html
    assert "goal reached" in html or "goal not reached" in html or "abandoned" in html
    assert "Assertions on the whole conversation" in html


def test_an_attempt_of_another_run_is_not_found(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    first = start(agent, tester_user, keys=["greeting"])
    second = start(agent, tester_user, keys=["greeting"])
    other_attempt = second.results.get()
    response = tester_client.get(reverse("studio:eval-result-detail", args=[agent.pk, first.pk, other_attempt.pk]))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------- comparing


def _break_the_greeting(agent: Agent, editor: Any) -> None:
    greet = Guideline.objects.get(agent=agent, key="greet")
    guideline_update(greet, data={"enabled": False}, actor=studio_actor(editor))
    agent.refresh_from_db()


def test_the_comparison_shows_a_regression_first_with_the_turns_behavior_side_by_side(
    tester_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, version = demo
    published = start(agent, editor_user, keys=["greeting", "missing-bag"], version=version)
    _break_the_greeting(agent, editor_user)
    draft = start(agent, editor_user, keys=["greeting", "missing-bag"])
    url = reverse("studio:eval-run-compare", args=[agent.pk, draft.pk]) + f"?baseline={published.pk}"
    html = tester_client.get(url).content.decode()
    assert 'id="compare-regression-title"' in html
    assert html.index('id="compare-case-greeting"') < html.index('id="compare-case-missing-bag"')
    regression = html.split('id="compare-case-greeting"')[1].split("</details>")[0]
    assert "100%" in regression and "0%" in regression
    assert "Active guidelines" in regression and "<del>greet</del>" in regression
    assert 'class="changed"' in regression
    assert "Reply" in regression


def test_the_compare_page_without_a_baseline_offers_the_other_runs(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, version = demo
    other = start(agent, tester_user, keys=["greeting"], version=version)
    run = start(agent, tester_user, keys=["greeting"])
    html = tester_client.get(reverse("studio:eval-run-compare", args=[agent.pk, run.pk])).content.decode()
    assert 'name="baseline"' in html and f'value="{other.pk}"' in html
    assert "regression" not in html.lower().split("</h1>")[1].split("compare with")[0]


def test_a_baseline_of_another_agent_is_not_found(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, tester_user, keys=["greeting"])
    stranger = EvalRun.objects.create(agent=make_agent("Elsewhere"), status=RunStatus.PASSED)
    url = reverse("studio:eval-run-compare", args=[agent.pk, run.pk]) + f"?baseline={stranger.pk}"
    assert tester_client.get(url).status_code == 404


# ---------------------------------------------------------------------------------------------- the publish check


def test_the_versions_page_offers_to_run_the_suite_on_the_draft_first(
    editor_client: Client, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    html = editor_client.get(reverse("studio:version-list", args=[agent.pk])).content.decode()
    assert "Run the suite on this draft first" in html
    assert reverse("studio:eval-publish-check-create", args=[agent.pk]) in html


def test_without_test_cases_the_versions_page_says_the_draft_cannot_be_checked(
    editor_client: Client, agent: Agent
) -> None:
    html = editor_client.get(reverse("studio:version-list", args=[agent.pk])).content.decode()
    assert "No test cases yet, so the draft cannot be checked before publishing." in html
    assert "Run the suite on this draft first" not in html
    response = editor_client.post(reverse("studio:eval-publish-check-create", args=[agent.pk]), follow=True)
    assert "There are no test cases to run yet" in response.content.decode()
    assert not EvalRun.objects.exists()


def test_the_publish_check_runs_the_draft_and_the_published_version_then_shows_the_comparison_and_the_form(
    editor_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, version = demo
    _break_the_greeting(agent, editor_user)
    response = editor_client.post(reverse("studio:eval-publish-check-create", args=[agent.pk]))
    draft = EvalRun.objects.get(version__isnull=True)
    baseline = EvalRun.objects.get(version=version)
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:eval-publish-check", args=[agent.pk, draft.pk])
    assert draft.purpose == baseline.purpose == RunPurpose.PUBLISH_CHECK
    assert draft.baseline_id == baseline.pk
    html = editor_client.get(response["Location"]).content.decode()
    assert "1 regression against the published version" in html
    assert html.index("Publish the draft") < html.index('id="compare-case-greeting"')
    assert f'action="{reverse("studio:version-publish", args=[agent.pk])}"' in html
    assert "Publish anyway" in html
    html = editor_client.get(reverse("studio:version-list", args=[agent.pk])).content.decode()
    assert f'href="{reverse("studio:eval-publish-check", args=[agent.pk, draft.pk])}"' in html  # the latest check


def test_the_publish_check_page_polls_while_its_runs_go(
    editor_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, version = demo
    baseline = start(agent, editor_user, version=version, start=False, purpose=RunPurpose.PUBLISH_CHECK)
    draft = start(agent, editor_user, start=False, purpose=RunPurpose.PUBLISH_CHECK, baseline=baseline)
    url = reverse("studio:eval-publish-check", args=[agent.pk, draft.pk])
    html = editor_client.get(url, **HX).content.decode()
    assert "<html" not in html and 'hx-trigger="every 1s"' in html
    assert "The draft" in html and "The published version (v1)" in html
    assert "publish-form" not in html


def test_a_tester_sees_the_check_but_not_the_publish_button(
    tester_client: Client, tester_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    response = tester_client.post(reverse("studio:eval-publish-check-create", args=[agent.pk]), follow=True)
    html = response.content.decode()
    assert "Publishing needs the editor role" in html and 'id="publish-form"' not in html


def test_publishing_from_the_check_publishes_as_usual(
    editor_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    _break_the_greeting(agent, editor_user)
    editor_client.post(reverse("studio:eval-publish-check-create", args=[agent.pk]))
    response = editor_client.post(reverse("studio:version-publish", args=[agent.pk]), {"note": "Checked"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.published_version.number == 2 and agent.published_version.note == "Checked"


# ---------------------------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role", ["operator_user", "outsider_user"])
def test_operators_and_outsiders_get_the_refusal_page(
    request: pytest.FixtureRequest, client_for: Any, editor_user: Any, role: str, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, editor_user, keys=["greeting"])
    client = client_for(request.getfixturevalue(role))
    for url in (runs_url(agent), detail_url(run), reverse("studio:eval-run-compare", args=[agent.pk, run.pk])):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You may not open this page" in response.content.decode()
    assert client.post(reverse("studio:eval-run-create", args=[agent.pk]), {"version": "draft"}).status_code == 403
    assert client.post(reverse("studio:eval-run-cancel", args=[agent.pk, run.pk])).status_code == 403
    assert EvalRun.objects.count() == 1


def test_the_navigation_shows_evaluations_to_testers_but_not_to_operators(
    tester_client: Client, client_for: Any, operator_user: Any, agent: Agent
) -> None:
    link = f'href="{runs_url(agent)}"'
    assert link in tester_client.get(reverse("studio:agent-detail", args=[agent.pk])).content.decode()
    assert link not in client_for(operator_user).get(reverse("studio:agent-detail", args=[agent.pk])).content.decode()


def test_a_run_of_another_agent_under_this_agents_url_is_not_found(
    editor_client: Client, editor_user: Any, demo: tuple[Agent, BehaviorVersion]
) -> None:
    agent, _version = demo
    run = start(agent, editor_user, keys=["greeting"])
    other = make_agent("Other Agent")
    for name in ("studio:eval-run-detail", "studio:eval-run-progress", "studio:eval-run-compare"):
        assert editor_client.get(reverse(name, args=[other.pk, run.pk])).status_code == 404, name
    assert editor_client.post(reverse("studio:eval-run-cancel", args=[other.pk, run.pk])).status_code == 404
    assert EvalResult.objects.filter(run=run).count() == 1
