"""The LLM check for contradictory guidelines: which pairs are asked about, the batched structured calls, the
run's claim, progress and stored findings (with a scripted model), and the Celery task."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agents.models import Agent
from behavior.engine.ports import LLMError
from behavior.lint.contradictions import PURPOSE, ContradictionBatch, PairVerdict, contradiction_pairs
from behavior.models import LintRun, LintRunStatus
from behavior.services.audit import studio_actor
from behavior.services.lint import lint_run_execute, lint_run_start
from behavior.tasks import lint_contradictions_task
from tests.engine.fakes import FakeEmbedder, ScriptedLLM
from tests.factories import make_guideline

PAIR = re.compile(r"Pair (\d+):\n  A \(([a-z0-9-]+)\): .*\n  B \(([a-z0-9-]+)\)")


def verdicts_for(conflicting: set[frozenset[str]]) -> Any:
    """A responder: the pairs listed in the prompt, contradicting when their keys are in `conflicting`."""

    def answer(request: Any, schema: Any) -> ContradictionBatch:
        prompt = request.messages[-1].content
        verdicts = []
        for number, first, second in PAIR.findall(prompt):
            contradicts = frozenset({first, second}) in conflicting
            verdicts.append(
                PairVerdict(
                    pair=int(number),
                    rationale="scripted",
                    contradicts=contradicts,
                    explanation=f"{first} says yes, {second} says no" if contradicts else "",
                )
            )
        return ContradictionBatch(verdicts=verdicts)

    return answer


@pytest.fixture
def world(agent: Agent, monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, Any]:
    settings.TURNS_RUN_INLINE = True
    make_guideline(agent, "refund-yes", condition="The customer asks for a refund", action="Always grant the refund")
    make_guideline(agent, "refund-no", condition="The customer asks for a refund", action="Never grant refunds")
    make_guideline(agent, "baggage", condition="The customer lost a bag", action="Offer to trace the bag")
    llm = ScriptedLLM().on(PURPOSE, verdicts_for({frozenset({"refund-yes", "refund-no"})}))
    monkeypatch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())
    monkeypatch.setattr("behavior.services.lint.lint_llm_for", lambda agent: llm)
    return {"llm": llm}


def test_pairs_are_the_similar_ones_when_there_is_an_embedder_and_all_without() -> None:
    document = {
        "guidelines": [
            {"key": "a", "condition": "The customer asks for a refund", "action": "Grant it"},
            {"key": "b", "condition": "The customer asks for a refund", "action": "Refuse it"},
            {"key": "c", "condition": "Weather on Mars", "action": "Describe dust storms"},
        ]
    }
    similar = contradiction_pairs(document, embedder=FakeEmbedder())
    assert [(p.first, p.second) for p in similar] == [("a", "b")]
    assert len(contradiction_pairs(document, embedder=None)) == 3


def test_a_run_asks_the_model_in_batches_and_stores_the_contradictions(
    agent: Agent, editor_user: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = lint_run_start(agent, actor=studio_actor(editor_user))
    run.refresh_from_db()
    assert run.status == LintRunStatus.DONE
    assert run.progress_total >= 1 and run.progress_done == run.progress_total
    assert run.created_by == editor_user and run.started_at and run.finished_at
    (finding,) = run.findings
    assert finding["code"] == "contradiction" and finding["severity"] == "warning"
    assert {finding["ref"], finding["related"][0][1]} == {"refund-yes", "refund-no"}
    calls = world["llm"].calls_for(PURPOSE)
    assert calls and all(call.schema is ContradictionBatch for call in calls)


def test_progress_is_saved_after_each_batch(
    agent: Agent, editor_user: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("behavior.lint.contradictions.PAIRS_PER_CALL", 1)
    monkeypatch.setattr("behavior.lint.contradictions.RELATED_SIMILARITY", -1.0)
    world["llm"].script(PURPOSE, verdicts_for(set()), LLMError("the model went away"))
    run = LintRun.objects.create(agent=agent, draft_revision=0)
    assert lint_run_execute(run.pk) == LintRunStatus.FAILED
    run.refresh_from_db()
    assert run.progress_total == 3
    assert run.progress_done == 1
    assert "the model went away" in run.error


def test_a_second_delivery_of_a_claimed_run_does_nothing(agent: Agent, world: dict[str, Any]) -> None:
    run = LintRun.objects.create(agent=agent, status=LintRunStatus.RUNNING)
    assert lint_contradictions_task.run(run.pk) == "skipped"
    assert world["llm"].calls == []


def test_starting_while_a_run_is_under_way_returns_that_run(
    agent: Agent, editor_user: Any, world: dict[str, Any]
) -> None:
    running = LintRun.objects.create(agent=agent, status=LintRunStatus.RUNNING)
    assert lint_run_start(agent, actor=studio_actor(editor_user)) == running
    assert LintRun.objects.filter(agent=agent).count() == 1


def test_the_task_runs_a_pending_run(agent: Agent, world: dict[str, Any]) -> None:
    run = LintRun.objects.create(agent=agent)
    assert lint_contradictions_task.run(run.pk) == LintRunStatus.DONE
    assert LintRun.objects.get(pk=run.pk).findings


def test_without_a_worker_setting_it_goes_to_celery(
    agent: Agent, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior.services.lint import lint_run_enqueue

    settings.TURNS_RUN_INLINE = False
    settings.TURNS_IN_PROCESS = False
    sent: list[int] = []
    monkeypatch.setattr(lint_contradictions_task, "delay", lambda run_id: sent.append(run_id))
    lint_run_enqueue(7)
    assert sent == [7]


def test_contradictions_found_on_this_draft_show_with_the_other_findings_until_the_draft_changes(
    agent: Agent, editor_user: Any, world: dict[str, Any]
) -> None:
    from behavior.services.audit import studio_actor
    from behavior.services.guidelines import guideline_update
    from behavior.services.lint import entity_lint

    revision = Agent.objects.get(pk=agent.pk).draft_revision
    run = LintRun.objects.create(agent=agent, draft_revision=revision)
    assert lint_contradictions_task.run(run.pk) == LintRunStatus.DONE
    codes = {finding["code"] for finding in entity_lint(agent, entity="guideline", ref="refund-yes")}
    assert codes & {finding["code"] for finding in LintRun.objects.get(pk=run.pk).findings}

    guideline = agent.guidelines.get(key="refund-yes")
    guideline_update(guideline, data={"action": "Grant the refund when eligible"}, actor=studio_actor(editor_user))
    stale = {finding["code"] for finding in entity_lint(agent, entity="guideline", ref="refund-yes")}
    assert not stale & {finding["code"] for finding in LintRun.objects.get(pk=run.pk).findings}
