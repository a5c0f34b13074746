"""Test cases and runs through the services: the suite format's round trip, revision guards, runs of the demo agent
through the ordinary turn path with tool mocks, pass^k, a simulated customer and the judge, cancellation, and where
evaluation conversations show (read-only for testers; never in the sandbox list or the operators' inbox)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from agents.models import Agent
from behavior.demo.seeding import demo_seed
from behavior.evaluations.cases import (
    case_create,
    case_proposal_from_session,
    case_update,
    suite_export,
    suite_import,
)
from behavior.evaluations.execute import result_execute
from behavior.evaluations.metrics import pass_at_k, pass_hat_k
from behavior.evaluations.models import EvalResult, EvalRun, ResultStatus, RunStatus
from behavior.evaluations.runs import run_cancel, run_create, run_dispatch
from behavior.services.audit import StaleRevision
from config.errors import Conflict, ValidationFailed
from sessions.inbox.selectors import inbox_waiting
from sessions.models import Session, SessionMode, SessionSource
from sessions.selectors import sandbox_customers, sandbox_sessions, session_access
from sessions.services.core import session_create
from sessions.services.customers import customer_create
from sessions.services.messages import customer_message_post
from tests.factories import make_agent
from tests.support.engine_responder import HeuristicLLM
from tests.support.realtime import realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)

REBOOK = {
    "key": "cancelled-flight",
    "name": "A cancelled flight is rebooked",
    "tags": ["rebooking"],
    "customer": {"name": "Eve", "tags": ["vip"]},
    "mocks": [
        {
            "tool": "lookup_booking",
            "arguments": {"booking_reference": "ABC123"},
            "result": {"found": True, "booking_reference": "ABC123", "fare": "Flex", "flight": "SK123"},
        }
    ],
    "turns": [
        {
            "message": "My flight SK123 was cancelled, I want to rebook",
            "assertions": [
                {"type": "guideline_matched", "guideline": "cancelled-flight-options"},
                {"type": "journey_in_state", "journey": "rebooking", "state": "ask-booking"},
            ],
        },
        {
            "message": "booking ABC123",
            "assertions": [
                {"type": "tool_called", "tool": "lookup_booking", "arguments": {"booking_reference": "ABC123"}}
            ],
        },
    ],
    "assertions": [{"type": "no_handoff"}],
}


@pytest.fixture(autouse=True)
def _inline(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    realtime_settings(settings)
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: HeuristicLLM())


@pytest.fixture
def demo() -> Agent:
    agent, _version = demo_seed()
    agent.eval_cases.all().delete()  # each test brings its own cases
    return agent


def start(agent: Agent, **options: Any) -> EvalRun:
    with transaction.atomic():
        run = run_create(agent=agent, version=options.pop("version", None), actor=None, **options)
    run.refresh_from_db()
    return run


# ---------------------------------------------------------------- cases and suites


def test_a_suite_exports_and_imports_losslessly_into_another_agent(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    case_create(
        agent=demo,
        data={
            "key": "simulated-refund",
            "name": "Refund, played by a simulated customer",
            "kind": "simulated",
            "simulation": {"persona": "Calm", "goal": "a refund", "facts": {"booking reference": "ABC123"}},
            "assertions": [{"type": "turns_to_goal", "max_turns": 4, "note": "quick"}],
        },
        actor=None,
    )
    exported = suite_export(demo)
    other = make_agent("Copy")

    counts = suite_import(other, exported, actor=None)

    assert counts == {"created": 2, "updated": 0, "deleted": 0}
    again = suite_export(other)
    assert again["cases"] == exported["cases"]
    assert suite_import(other, exported, actor=None) == {"created": 0, "updated": 0, "deleted": 0}


def test_an_import_with_replace_deletes_the_cases_it_does_not_name(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    case_create(agent=demo, data={**REBOOK, "key": "old-case"}, actor=None)
    suite = {"format": "decorum-test-suite", "version": 1, "cases": [REBOOK]}

    counts = suite_import(demo, suite, actor=None, replace=True)

    assert counts["deleted"] == 1
    assert list(demo.eval_cases.values_list("key", flat=True)) == ["cancelled-flight"]


def test_a_bad_suite_is_refused_whole_naming_the_field(demo: Agent) -> None:
    bad = {"cases": [REBOOK, {**REBOOK, "key": "second", "turns": [{"message": "hi", "assertions": [{"type": "x"}]}]}]}
    with pytest.raises(ValidationFailed) as error:
        suite_import(demo, bad, actor=None)
    assert "cases.1.turns.0.assertions.0" in error.value.message
    assert not demo.eval_cases.exists()


def test_two_cases_cannot_share_a_key_and_a_stale_edit_is_refused(demo: Agent) -> None:
    case = case_create(agent=demo, data=REBOOK, actor=None)
    with pytest.raises(Conflict):
        case_create(agent=demo, data=REBOOK, actor=None)
    case_update(case, data={**REBOOK, "name": "Renamed"}, actor=None, revision=1)
    with pytest.raises(StaleRevision):
        case_update(case, data={**REBOOK, "name": "Lost edit"}, actor=None, revision=1)
    case.refresh_from_db()
    assert (case.name, case.revision) == ("Renamed", 2)


def test_a_sandbox_conversation_becomes_a_proposed_case_with_what_its_traces_show(
    demo: Agent, tester_user: Any
) -> None:
    customer = customer_create(name="Sam", tags=["vip"])
    session = session_create(agent=demo, customer=customer, source=SessionSource.SANDBOX, created_by=tester_user)
    customer_message_post(session, text="My flight SK123 was cancelled, I want to rebook")
    customer_message_post(session, text="booking ABC123")

    proposal = case_proposal_from_session(session)

    assert [turn["message"] for turn in proposal["turns"]] == [
        "My flight SK123 was cancelled, I want to rebook",
        "booking ABC123",
    ]
    first, second = (turn["assertions"] for turn in proposal["turns"])
    assert {"type": "guideline_matched", "guideline": "cancelled-flight-options"} in first
    assert {"type": "journey_in_state", "journey": "rebooking", "state": "ask-booking"} in first
    assert {
        "type": "tool_called",
        "tool": "lookup_booking",
        "arguments": {"booking_reference": {"op": "equals", "value": "ABC123"}},
    } in second
    assert proposal["customer"]["tags"] == ["vip"]
    assert case_create(agent=demo, data=proposal, actor=None).key == proposal["key"]


# ---------------------------------------------------------------- runs


def test_a_run_replays_the_case_through_the_turn_path_with_its_mocks(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)

    run = start(demo, repeats=2)

    assert run.status == RunStatus.PASSED
    assert (run.progress_done, run.progress_total) == (2, 2)
    result = run.results.order_by("repeat").first()
    assert result is not None and result.status == ResultStatus.PASSED
    assert [item["passed"] for item in result.assertions] == [True, True, True, True]
    lookup = next(call for call in result.turns[1]["tools"] if call["tool"] == "lookup_booking")
    assert lookup["mocked"] is True
    session = Session.objects.get(pk=result.session_id)
    assert session.source == SessionSource.EVALUATION and session.version_id is None
    assert session.turns.count() == 2
    summary = run.summary
    assert summary["pass_rate"] == 1.0 and summary["pass_hat_k"] == 1.0 and summary["k"] == 2
    assert summary["tool_call_accuracy"] == 1.0
    assert summary["llm_calls"] > 0 and summary["prompt_tokens"] > 0
    assert summary["cost_usd"] is not None and summary["cost_usd"] > 0
    assert "refund-policy" in run.coverage["guidelines_never_active"]
    assert "cancelled-flight-options" not in run.coverage["guidelines_never_active"]


def test_a_failing_assertion_fails_the_run_and_says_why(demo: Agent) -> None:
    case_create(
        agent=demo,
        data={
            **REBOOK,
            "turns": [
                {
                    "message": "My flight SK123 was cancelled, I want to rebook",
                    "assertions": [{"type": "guideline_matched", "guideline": "refund-policy"}],
                }
            ],
        },
        actor=None,
    )

    run = start(demo)

    assert run.status == RunStatus.FAILED
    failed = next(item for item in run.results.get().assertions if not item["passed"])
    assert failed["cause"].startswith(
        "guideline refund-policy not matched: the model judged 'The customer asks for a refund' false — rationale:"
    )
    assert failed["turn"] == 0


def test_a_mock_can_make_a_tool_fail(demo: Agent) -> None:
    case_create(
        agent=demo,
        data={
            **REBOOK,
            "mocks": [{"tool": "lookup_booking", "error": "The booking system is down"}],
            "turns": [REBOOK["turns"][0], {"message": "booking ABC123", "assertions": []}],
            "assertions": [],
        },
        actor=None,
    )

    run = start(demo)

    call = next(c for c in run.results.get().turns[1]["tools"] if c["tool"] == "lookup_booking")
    assert call["status"] == "error" and call["mocked"] is True
    assert "The booking system is down" in (call["error"] or "")


def test_the_minimum_pass_rate_decides_the_runs_status(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    case_create(
        agent=demo,
        data={**REBOOK, "key": "wrong", "assertions": [{"type": "handoff_requested"}]},
        actor=None,
    )
    assert start(demo).status == RunStatus.FAILED
    lenient = start(demo, min_pass_rate=0.5)
    assert lenient.status == RunStatus.PASSED
    assert lenient.summary["pass_rate"] == 0.5


def test_a_simulated_customer_reaches_its_goal_and_the_judge_keeps_its_rationale(demo: Agent) -> None:
    case_create(
        agent=demo,
        data={
            "key": "simulated-rebook",
            "name": "A traveller rebooks by themself",
            "kind": "simulated",
            "simulation": {
                "persona": "A busy traveller",
                "goal": "rebook my cancelled flight SK123",
                "facts": {"booking reference": "ABC123"},
                "milestones": ["asks for the booking reference", "explains the change fee"],
                "max_turns": 4,
            },
            "assertions": [
                {"type": "turns_to_goal", "max_turns": 3},
                {"type": "criterion", "criterion": "the agent asks for the booking reference"},
            ],
        },
        actor=None,
    )

    run = start(demo)

    result = run.results.get()
    assert result.status == ResultStatus.PASSED, result.assertions
    assert result.metrics["goal_reached"] is True
    assert result.metrics["turns_to_goal"] == 2
    assert result.turns[1]["customer"] == "My booking reference is ABC123."
    judged = next(item for item in result.assertions if item["type"] == "criterion")
    assert "book, reference" in judged["rationale"]
    assert result.metrics["evaluator_calls"] >= 3
    assert run.summary["turns_to_goal_mean"] == 2.0


def test_a_judge_that_cannot_answer_fails_the_criterion_with_the_reason(
    demo: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("judge unreachable")

    monkeypatch.setattr("behavior.evaluations.execute.criterion_judge", broken)
    case_create(
        agent=demo,
        data={**REBOOK, "assertions": [{"type": "criterion", "criterion": "the agent is polite"}]},
        actor=None,
    )

    result = start(demo).results.get()

    judged = next(item for item in result.assertions if item["type"] == "criterion")
    assert judged["passed"] is False
    assert judged["cause"] == "the criterion could not be judged: judge unreachable"


def test_pass_hat_k_and_pass_at_k_follow_the_combinatorial_definitions() -> None:
    assert pass_hat_k(3, 3, 3) == 1.0
    assert pass_hat_k(3, 2, 3) == 0.0
    assert pass_hat_k(3, 2, 2) == pytest.approx(1 / 3)
    assert pass_at_k(3, 1, 2) == pytest.approx(2 / 3)
    assert pass_at_k(3, 0, 3) == 0.0
    assert pass_hat_k(0, 0, 1) == 0.0


def test_a_run_of_nothing_is_refused_with_a_way_forward(demo: Agent) -> None:
    with pytest.raises(ValidationFailed) as error:
        run_create(agent=demo, version=None, actor=None)
    assert "add one" in error.value.message
    case_create(agent=demo, data=REBOOK, actor=None)
    with pytest.raises(ValidationFailed):
        run_create(agent=demo, version=None, actor=None, repeats=11)
    with pytest.raises(ValidationFailed):
        run_create(agent=demo, version=None, actor=None, keys=["nope"])


def test_a_run_on_a_published_version_uses_that_version(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    version = demo.versions.order_by("-number").first()

    run = start(demo, version=version)

    assert run.version_label == f"v{version.number}"
    assert Session.objects.get(pk=run.results.get().session_id).version_id == version.pk


# ---------------------------------------------------------------- cancellation


def test_cancelling_stops_the_attempts_not_started_and_finishes_the_run(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    run = start(demo, repeats=3, start=False)

    cancelled = run_cancel(run, actor=None)

    assert cancelled.status == RunStatus.CANCELLED
    assert set(run.results.values_list("status", flat=True)) == {ResultStatus.CANCELLED}
    assert cancelled.summary["cancelled"] == 3 and cancelled.summary["attempts"] == 0
    with pytest.raises(ValidationFailed) as error:
        run_cancel(cancelled, actor=None)
    assert "already finished" in error.value.message
    assert run_dispatch(run.pk) == []


def test_a_running_attempt_stops_before_its_next_turn_once_the_run_is_cancelled(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    run = start(demo, start=False)
    result = run.results.get()
    EvalRun.objects.filter(pk=run.pk).update(cancel_requested=True)

    assert result_execute(result.pk) == ResultStatus.CANCELLED
    assert result_execute(result.pk) == "skipped"  # a redelivered task does nothing
    assert EvalResult.objects.get(pk=result.pk).status == ResultStatus.CANCELLED


def test_attempts_are_dispatched_up_to_the_runs_concurrency(demo: Agent, settings: Any) -> None:
    settings.TURNS_RUN_INLINE = False
    settings.TURNS_IN_PROCESS = False  # dispatch would hand them to Celery: capture instead
    queued: list[int] = []
    import behavior.evaluations.runs as runs

    original = runs.result_enqueue
    runs.result_enqueue = queued.append  # type: ignore[assignment]
    try:
        case_create(agent=demo, data=REBOOK, actor=None)
        run = start(demo, repeats=5, concurrency=2)
        assert len(queued) == 2
        assert run.results.filter(status=ResultStatus.QUEUED).count() == 2
        assert run_dispatch(run.pk) == []  # no free slot
    finally:
        runs.result_enqueue = original


# ---------------------------------------------------------------- where evaluation conversations show


def test_evaluation_conversations_are_read_only_for_testers_and_kept_out_of_the_sandbox_and_inbox(
    demo: Agent, tester_user: Any, operator_user: Any, outsider_user: Any
) -> None:
    case_create(
        agent=demo,
        data={
            **REBOOK,
            "turns": [{"message": "I want to talk to a human agent please", "assertions": []}],
            "assertions": [],
        },
        actor=None,
    )
    run = start(demo)
    session = Session.objects.get(pk=run.results.get().session_id)
    assert session.mode == SessionMode.WAITING  # the agent handed it over: it would wait for an operator

    access = session_access(tester_user, session)
    assert access.view and not access.chat and not access.operate
    assert not session_access(operator_user, session).view
    assert not session_access(outsider_user, session).view
    assert session not in sandbox_sessions(tester_user)
    assert session.customer not in sandbox_customers()
    assert session not in inbox_waiting(operator_user)


def test_after_a_restart_interrupted_attempts_are_errors_and_the_run_goes_on(demo: Agent, settings: Any) -> None:
    from behavior.evaluations.runs import _recover

    case_create(agent=demo, data=REBOOK, actor=None)
    run = start(demo, repeats=2, start=False)
    first, second = run.results.order_by("repeat")
    EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    EvalResult.objects.filter(pk=first.pk).update(status=ResultStatus.RUNNING)
    EvalResult.objects.filter(pk=second.pk).update(status=ResultStatus.QUEUED)
    settings.EMBEDDED = True

    _recover()

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED  # one attempt lost to the restart, the other ran and passed
    assert EvalResult.objects.get(pk=first.pk).error == "The server restarted while this attempt ran."
    assert EvalResult.objects.get(pk=second.pk).status == ResultStatus.PASSED


def test_a_tester_opens_an_attempts_conversation_and_each_turns_trace_but_cannot_write_to_it(
    demo: Agent, client_for: Any, tester_user: Any, operator_user: Any
) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    result = start(demo).results.get()
    session = Session.objects.get(pk=result.session_id)
    turn_id = result.turns[0]["turn_id"]
    tester = client_for(tester_user)

    page = tester.get(reverse("sandbox:session", args=[session.uid]))
    trace = tester.get(reverse("sandbox:trace", args=[session.uid, turn_id]))
    post = tester.post(reverse("sandbox:message-post", args=[session.uid]), {"text": "hello"})

    assert page.status_code == 200
    assert trace.status_code == 200 and "cancelled-flight-options" in trace.content.decode()
    assert post.status_code in (403, 404)
    assert session.events.filter(data__text="hello").count() == 0
    assert client_for(operator_user).get(reverse("sandbox:trace", args=[session.uid, turn_id])).status_code == 404


def test_a_case_can_run_the_agent_in_strict_mode_and_check_the_canned_response_chosen(demo: Agent) -> None:
    case_create(
        agent=demo,
        data={
            "key": "strict-greeting",
            "name": "Strict mode greets with the canned greeting",
            "agent": {"composition_mode": "strict"},
            "turns": [{"message": "Hello!", "assertions": [{"type": "canned_used", "canned": "greeting"}]}],
        },
        actor=None,
    )

    result = start(demo).results.get()

    assert result.status == ResultStatus.PASSED, result.assertions
    assert result.turns[0]["composition_mode"] == "strict"
    assert Session.objects.get(pk=result.session_id).overrides == {"composition_mode": "strict"}
    assert demo.composition_mode == "fluid"  # the agent itself is unchanged


def test_stale_attempts_become_errors_but_the_command_lines_queued_ones_wait_their_turn(demo: Agent) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from behavior.evaluations.models import RunPurpose
    from behavior.evaluations.runs import runs_recover_stale

    case_create(agent=demo, data=REBOOK, actor=None)
    studio_run = start(demo, repeats=2, start=False)
    cli_run = start(demo, start=False, purpose=RunPurpose.CLI)
    long_ago = timezone.now() - timedelta(hours=2)
    EvalRun.objects.update(created_at=long_ago, status=RunStatus.RUNNING)
    stuck, waiting = studio_run.results.order_by("repeat")
    EvalResult.objects.filter(pk=stuck.pk).update(status=ResultStatus.RUNNING, started_at=long_ago)
    EvalResult.objects.filter(pk=waiting.pk).update(status=ResultStatus.QUEUED)
    cli_run.results.update(status=ResultStatus.QUEUED)

    assert runs_recover_stale() == 2

    assert EvalResult.objects.get(pk=stuck.pk).error == "The attempt's worker stopped before it finished."
    assert cli_run.results.get().status == ResultStatus.QUEUED


def test_a_run_on_the_draft_records_the_drafts_revision_even_from_an_older_agent_object(demo: Agent) -> None:
    case_create(agent=demo, data=REBOOK, actor=None)
    Agent.objects.filter(pk=demo.pk).update(draft_revision=41)  # the row moved on; `demo` still says otherwise

    run = start(demo)

    assert run.draft_revision == 41
    assert "draft_changed" not in run.summary
