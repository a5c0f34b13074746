"""manage.py run_evals, as CI calls it: the demo suite passes with the scripted fake model, a broken draft exits 1
and names the cause, JUnit XML and the JSON report, unknown agents and versions, a suite file's cases, Ctrl-C; and
the demo suite file itself (every assertion kind, a lossless round trip)."""

from __future__ import annotations

import io
import json
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from agents.models import Agent
from behavior.demo.seeding import DEMO_SUITE_PATH, demo_seed
from behavior.evaluations.cases import suite_export
from behavior.evaluations.format import ASSERTION_TYPES, case_data, suite_parse
from behavior.evaluations.models import EvalRun, ResultStatus, RunPurpose, RunStatus
from behavior.models import Guideline
from behavior.services.audit import SYSTEM
from behavior.services.guidelines import guideline_update
from tests.factories import make_agent
from tests.support.engine_responder import HeuristicLLM
from tests.support.realtime import realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = "Skyway Support"
# The demo agent composes its replies freely (composition_mode: fluid), and only strict mode renders canned
# responses, so no demo case can assert one; canned_used is covered by the assertion tests on a strict agent.


@pytest.fixture(autouse=True)
def _fake_model(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    realtime_settings(settings)
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: HeuristicLLM())


@pytest.fixture
def demo() -> Agent:
    agent, _version = demo_seed()
    return agent


def run_evals(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("run_evals", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def failing_run(*args: str) -> tuple[CommandError, str]:
    stdout = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("run_evals", *args, stdout=stdout, stderr=io.StringIO())
    return raised.value, stdout.getvalue()


def demo_suite_data() -> dict[str, Any]:
    return yaml.safe_load(DEMO_SUITE_PATH.read_text(encoding="utf-8"))


def break_baggage_allowance(agent: Agent) -> None:
    guideline = Guideline.objects.get(agent=agent, key="baggage-allowance")
    guideline_update(guideline, data={"enabled": False}, actor=SYSTEM)


# ---------------------------------------------------------------- the demo suite


def test_seeding_the_demo_gives_the_agent_the_demo_suite(demo: Agent) -> None:
    keys = {case["key"] for case in demo_suite_data()["cases"]}

    assert set(demo.eval_cases.values_list("key", flat=True)) == keys
    assert len(keys) >= 15
    assert {"scripted", "simulated"} == set(demo.eval_cases.values_list("kind", flat=True))


def test_seeding_again_with_force_restores_the_demo_cases_and_keeps_the_others(demo: Agent) -> None:
    demo.eval_cases.filter(key="greeting").delete()
    make_case = {"key": "my-own", "name": "Mine", "turns": [{"message": "Hi"}]}
    from behavior.evaluations.cases import case_create

    case_create(agent=demo, data=make_case, actor=None)

    demo_seed(force=True)

    keys = set(demo.eval_cases.values_list("key", flat=True))
    assert "greeting" in keys and "my-own" in keys


def test_the_demo_suite_passes_with_the_fake_model_across_repeats(demo: Agent) -> None:
    stdout, _ = run_evals("--agent", DEMO, "--version", "draft", "--repeats", "2", "--min-pass-rate", "1.0")

    run = EvalRun.objects.get()
    assert run.status == RunStatus.PASSED, stdout
    assert run.purpose == RunPurpose.CLI
    assert run.summary["attempts"] == 2 * demo.eval_cases.count()
    assert run.summary["pass_hat_k"] == 1.0 and run.summary["errors"] == 0
    assert f"Run {run.pk} passed: 100.0% of attempts." in stdout
    assert "pass^2" in stdout and "assertion compliance" in stdout and "latency p50 / p95" in stdout


def test_the_demo_suite_uses_every_assertion_kind_scripted_and_simulated_cases_and_both_kinds_of_mock() -> None:
    suite = suite_parse(demo_suite_data())

    used = {assertion.type for case in suite.cases for assertion in case.all_assertions()}
    mocks = [mock for case in suite.cases for mock in case.mocks]

    assert used == set(ASSERTION_TYPES)
    assert {case.kind for case in suite.cases} == {"scripted", "simulated"}
    assert any(mock.error for mock in mocks) and any(mock.result is not None for mock in mocks)
    assert len(suite.cases) >= 15


def test_the_demo_suite_round_trips_losslessly_through_the_format(demo: Agent) -> None:
    parsed = suite_parse(demo_suite_data())
    written = [case_data(case) for case in parsed.cases]

    again = suite_parse({"format": "decorum-test-suite", "version": 1, "cases": written})

    assert [case_data(case) for case in again.cases] == written
    assert again.cases == parsed.cases
    assert suite_export(demo)["cases"] == sorted(written, key=lambda case: case["key"])


# ---------------------------------------------------------------- failures


def test_a_broken_draft_exits_1_and_the_summary_names_the_cause(demo: Agent) -> None:
    break_baggage_allowance(demo)

    error, stdout = failing_run("--agent", DEMO, "--cases", "baggage-allowance,greeting")

    assert error.returncode == 1
    assert "pass rate 50.0% is below the threshold 100.0%" in str(error)
    assert "baggage-allowance #1 (failed):" in stdout
    assert "guideline matched: baggage-allowance — guideline baggage-allowance" in stdout
    assert EvalRun.objects.get().status == RunStatus.FAILED


def test_a_lower_threshold_lets_a_partly_failing_run_pass(demo: Agent) -> None:
    break_baggage_allowance(demo)

    stdout, _ = run_evals("--agent", DEMO, "--cases", "baggage-allowance,greeting", "--min-pass-rate", "50%")

    assert "passed: 50.0% of attempts" in stdout


def test_the_published_version_still_passes_when_only_the_draft_is_broken(demo: Agent) -> None:
    break_baggage_allowance(demo)

    stdout, _ = run_evals("--agent", DEMO, "--version", "published", "--cases", "baggage-allowance")

    assert EvalRun.objects.get().version.number == 1
    assert "passed" in stdout


def test_an_attempt_that_errors_makes_the_command_exit_1(demo: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: Any) -> None:
        raise RuntimeError("the model server vanished")

    monkeypatch.setattr("behavior.evaluations.execute.Attempt.play", crash)

    error, stdout = failing_run("--agent", DEMO, "--cases", "greeting", "--min-pass-rate", "0")

    assert error.returncode == 1
    assert "errored" in str(error)
    assert "error: the model server vanished" in stdout


def test_ctrl_c_cancels_the_run_and_exits_130(demo: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    from behavior.evaluations.execute import result_execute

    calls: list[int] = []

    def first_then_interrupted(result_id: int) -> str:
        calls.append(result_id)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return result_execute(result_id)

    monkeypatch.setattr("behavior.management.commands.run_evals.result_execute", first_then_interrupted)

    error, stdout = failing_run("--agent", DEMO, "--cases", "greeting,check-in-times")

    run = EvalRun.objects.get()
    assert error.returncode == 130
    assert run.status == RunStatus.CANCELLED and run.cancel_requested
    assert sorted(run.results.values_list("status", flat=True)) == [ResultStatus.CANCELLED, ResultStatus.PASSED]
    assert "[1/2] check-in-times #1: passed" in stdout


def test_outside_the_tests_attempts_run_on_the_commands_own_threads_up_to_the_concurrency(
    demo: Agent, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TURNS_RUN_INLINE = False  # the tests' in-memory SQLite takes no concurrent writers: attempts are faked
    lock = threading.Lock()
    running: list[int] = []
    seen: dict[str, int] = {"most": 0}
    threads: set[str] = set()

    def fake_attempt(result_id: int) -> str:
        with lock:
            running.append(result_id)
            seen["most"] = max(seen["most"], len(running))
            threads.add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            running.remove(result_id)
        return "skipped"

    monkeypatch.setattr("behavior.management.commands.run_evals.result_execute", fake_attempt)

    error, stdout = failing_run("--agent", DEMO, "--tags", "smoke", "--repeats", "2", "--concurrency", "3")

    run = EvalRun.objects.get()
    assert seen["most"] == 3
    assert threads and all(name.startswith(f"run-evals-{run.pk}") for name in threads)
    assert stdout.count("error") >= run.progress_total  # nothing really ran: every attempt "did not finish"
    assert error.returncode == 1


# ---------------------------------------------------------------- reports


def test_junit_xml_parses_and_lists_each_attempt_with_its_failures(demo: Agent, tmp_path: Path) -> None:
    break_baggage_allowance(demo)
    target = tmp_path / "reports" / "evals.xml"

    failing_run("--agent", DEMO, "--cases", "baggage-allowance,greeting", "--repeats", "2", "--junit", str(target))

    root = ElementTree.parse(target).getroot()
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    suite = suites[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "0")
    cases = suite.findall("testcase")
    assert sorted(case.get("name", "").split(":")[0] for case in cases) == [
        "baggage-allowance #1",
        "baggage-allowance #2",
        "greeting #1",
        "greeting #2",
    ]
    failures = [case.find("failure") for case in cases if case.find("failure") is not None]
    assert len(failures) == 2
    assert all(
        "guideline baggage-allowance" in str(failure.get("message")) for failure in failures if failure is not None
    )
    transcript = cases[0].findtext("system-out") or ""
    assert "CUSTOMER: How much baggage can I bring" in transcript and "AGENT: " in transcript


def test_junit_xml_escapes_markup_and_drops_characters_xml_cannot_hold(demo: Agent, tmp_path: Path) -> None:
    suite = {
        "format": "decorum-test-suite",
        "version": 1,
        "cases": [
            {
                "key": "markup",
                "name": 'Tags <b>&</b> "quotes"',
                "turns": [
                    {
                        "message": 'Is <script>alert("x")</script> & \u0007 ]]> fine?',
                        "assertions": [{"type": "reply_contains", "text": '<never & "said">'}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "markup.json"
    path.write_text(json.dumps(suite))
    target = tmp_path / "evals.xml"

    failing_run("--agent", DEMO, "--suite", str(path), "--junit", str(target))

    case = ElementTree.parse(target).getroot().find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == 'markup #1: Tags <b>&</b> "quotes"'
    failure = case.find("failure")
    assert failure is not None and '<never & "said">' in str(failure.get("message"))
    assert '<script>alert("x")</script> & \ufffd ]]> fine?' in (case.findtext("system-out") or "")


def test_the_json_report_holds_the_summary_and_every_attempt(demo: Agent, tmp_path: Path) -> None:
    target = tmp_path / "evals.json"

    run_evals("--agent", DEMO, "--cases", "refund-flex-fare,simulated-baggage-question", "--json", str(target))

    report = json.loads(target.read_text())
    run = EvalRun.objects.get()
    assert report["format"] == "decorum-eval-run" and report["run"]["id"] == run.pk
    assert report["run"]["status"] == "passed" and report["run"]["version"].startswith("draft")
    assert report["summary"]["pass_rate"] == 1.0 and "by_case" in report["summary"]
    assert "guidelines_never_active" in report["coverage"]
    by_key = {result["case_key"]: result for result in report["results"]}
    assert set(by_key) == {"refund-flex-fare", "simulated-baggage-question"}
    refund = by_key["refund-flex-fare"]
    assert refund["status"] == "passed" and refund["failures"] == []
    assert any(item["type"] == "tool_called" and item["passed"] for item in refund["assertions"])
    assert refund["turns"][0]["tools"][-1]["mocked"] is True
    assert by_key["simulated-baggage-question"]["metrics"]["goal_reached"] is True


# ---------------------------------------------------------------- choosing agent, version and cases


def test_an_unknown_agent_is_refused_with_the_agents_there_are(demo: Agent) -> None:
    make_agent("Other Agent")

    with pytest.raises(CommandError, match=r"No agent named 'Nobody'\. Agents: \"Other Agent\", \"Skyway Support\""):
        run_evals("--agent", "Nobody")


def test_an_unknown_version_is_refused_with_the_versions_there_are(demo: Agent) -> None:
    with pytest.raises(CommandError, match=r"has no version '7'\. Choose one of: draft, published, 1\."):
        run_evals("--agent", DEMO, "--version", "7")


def test_published_is_refused_for_an_agent_never_published() -> None:
    make_agent("Unpublished")

    with pytest.raises(CommandError, match=r'"Unpublished" has no published version\. Choose one of: draft\.'):
        run_evals("--agent", "Unpublished", "--version", "published")


def test_an_agent_without_cases_is_told_to_add_one() -> None:
    make_agent("Empty")

    with pytest.raises(CommandError, match="There is no test case yet"):
        run_evals("--agent", "Empty")


def test_a_threshold_out_of_range_is_refused(demo: Agent) -> None:
    with pytest.raises(CommandError, match="--min-pass-rate must be between 0 and 1"):
        run_evals("--agent", DEMO, "--min-pass-rate", "1.5")


def test_repeats_out_of_range_are_refused_before_a_suite_file_is_imported(demo: Agent, tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO_SUITE_PATH.read_text(encoding="utf-8"))
    demo.eval_cases.all().delete()

    with pytest.raises(CommandError, match="--repeats must be between 1 and 10"):
        run_evals("--agent", DEMO, "--suite", str(path), "--repeats", "11")
    assert not demo.eval_cases.exists()


def test_tags_choose_the_cases_that_run(demo: Agent) -> None:
    run_evals("--agent", DEMO, "--tags", "legal")

    assert set(EvalRun.objects.get().results.values_list("case_key", flat=True)) == {"compensation-never-promised"}


def test_a_suite_file_is_imported_and_only_its_cases_run(demo: Agent, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "format": "decorum-test-suite",
                "version": 1,
                "cases": [
                    {
                        "key": "file-greeting",
                        "name": "Hello from a file",
                        "turns": [
                            {"message": "Hello!", "assertions": [{"type": "guideline_matched", "guideline": "greet"}]}
                        ],
                    },
                    {
                        "key": "file-check-in",
                        "name": "Check-in from a file",
                        "tags": ["file"],
                        "turns": [{"message": "When does online check-in open?"}],
                        "assertions": [{"type": "reply_contains", "text": "30 hours"}],
                    },
                ],
            }
        )
    )

    stdout, _ = run_evals("--agent", DEMO, "--suite", str(path))

    assert f'Imported {path} into "Skyway Support": 2 created, 0 updated, 0 unchanged' in stdout
    assert {"file-greeting", "file-check-in"} <= set(demo.eval_cases.values_list("key", flat=True))
    assert set(EvalRun.objects.get().results.values_list("case_key", flat=True)) == {"file-greeting", "file-check-in"}


def test_a_suite_file_with_tags_runs_only_its_tagged_cases(demo: Agent, tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO_SUITE_PATH.read_text(encoding="utf-8"))

    stdout, _ = run_evals("--agent", DEMO, "--suite", str(path), "--tags", "legal")

    assert "0 created, 0 updated" in stdout
    assert set(EvalRun.objects.get().results.values_list("case_key", flat=True)) == {"compensation-never-promised"}


def test_an_invalid_suite_file_names_the_wrong_field(demo: Agent, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("format: decorum-test-suite\nversion: 1\ncases:\n  - key: Bad Key\n    name: x\n    turns: []\n")

    with pytest.raises(CommandError, match=r"cases\.0\.key"):
        run_evals("--agent", DEMO, "--suite", str(path))
    assert not EvalRun.objects.exists()
