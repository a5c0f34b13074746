"""Test cases and evaluation runs over the REST API: case CRUD with its validation errors and revision guard, the
suite's export/import round trip, saving a conversation as a case, runs on the demo agent with the scripted model
(results, summary, cancel, compare), and who may do what."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from agents.models import Agent
from behavior.demo.seeding import demo_seed
from behavior.evaluations.models import EvalCase, EvalResult, EvalRun
from behavior.evaluations.runs import run_create
from behavior.services.audit import SYSTEM
from sessions.models import Event, EventKind, EventSource
from sessions.services.messages import customer_message_post
from tests.api_helpers import ApiClient, api_client, api_user_for, assert_error
from tests.factories import make_agent, make_customer, make_session
from tests.support.engine_responder import HeuristicLLM
from tests.support.realtime import realtime_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _scripted_model(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Turns and attempts run inline, answered by the deterministic fake model."""
    realtime_settings(settings)
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: HeuristicLLM())


@pytest.fixture
def tester() -> ApiClient:
    return api_client("tester")


@pytest.fixture
def demo() -> Agent:
    """The demo agent (version 1 published) without its seeded suite, so each test states the cases it runs."""
    agent, _version = demo_seed()
    EvalCase.objects.filter(agent=agent).delete()
    return agent


def scripted(key: str, *turns: tuple[str, list[dict[str, Any]]], **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": fields.pop("name", key.replace("-", " ").capitalize()),
        "turns": [{"message": message, "assertions": assertions} for message, assertions in turns],
        **fields,
    }


GREETS = scripted(
    "greets",
    ("Hello!", [{"type": "guideline_matched", "guideline": "greet"}, {"type": "reply_contains", "text": "Hello"}]),
    tags=["smoke"],
)
REFUND = scripted(
    "refund-on-cancelled-flight",
    (
        "I want a refund for my cancelled flight, booking ABC123",
        [
            {"type": "tool_called", "tool": "lookup_booking", "arguments": {"booking_reference": "ABC123"}},
            {"type": "guideline_dropped", "guideline": "refund-policy", "reason_kind": "overrides"},
            {"type": "no_handoff"},
        ],
    ),
    tags=["refunds"],
)
WRONG = scripted(
    "expects-the-refund-policy-on-hello",
    ("Hello!", [{"type": "guideline_matched", "guideline": "refund-policy", "note": "deliberately wrong"}]),
    tags=["smoke"],
)


def cases_path(agent: Agent, suffix: str = "") -> str:
    return f"/agents/{agent.pk}/test-cases{suffix}"


def runs_path(agent: Agent, suffix: str = "") -> str:
    return f"/agents/{agent.pk}/test-runs{suffix}"


def create_case(client: ApiClient, agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(cases_path(agent), data)
    assert response.status_code == 201, response.content[:500]
    return response.json()


# -------------------------------------------------------------------------------------------------- test cases


def test_a_tester_creates_reads_updates_and_deletes_a_test_case(tester: ApiClient, agent: Agent) -> None:
    created = create_case(tester, agent, GREETS)

    assert (created["key"], created["kind"], created["tags"], created["revision"]) == (
        "greets",
        "scripted",
        ["smoke"],
        1,
    )
    assert created["agent"] == agent.pk
    assert created["created_by"] == "api-tester"
    assert created["definition"]["turns"][0]["assertions"][0] == {"type": "guideline_matched", "guideline": "greet"}
    assert tester.get(cases_path(agent, f"/{created['id']}")).json() == created

    updated = tester.patch(cases_path(agent, f"/{created['id']}"), {"name": "Greets back", "revision": 1})

    assert updated.status_code == 200, updated.content
    assert (updated.json()["name"], updated.json()["revision"]) == ("Greets back", 2)
    assert updated.json()["definition"]["turns"] == created["definition"]["turns"]  # fields not sent stay

    deleted = tester.delete(cases_path(agent, f"/{created['id']}"))

    assert deleted.status_code == 204
    assert not EvalCase.objects.exists()
    assert_error(tester.get(cases_path(agent, f"/{created['id']}")), 404, "not_found")


def test_the_list_filters_by_tag_kind_and_text_and_is_paginated(tester: ApiClient, agent: Agent) -> None:
    create_case(tester, agent, GREETS)
    create_case(tester, agent, REFUND)
    create_case(tester, agent, WRONG)
    create_case(
        tester,
        agent,
        {
            "key": "simulated-refund",
            "name": "A simulated refund",
            "kind": "simulated",
            "tags": ["refunds"],
            "simulation": {"persona": "A hurried traveller", "goal": "Get a refund", "max_turns": 3},
            "assertions": [{"type": "turns_to_goal", "max_turns": 3}],
        },
    )

    def keys(**query: Any) -> list[str]:
        response = tester.get(cases_path(agent), **query)
        assert response.status_code == 200, response.content
        return [item["key"] for item in response.json()["items"]]

    assert keys() == ["expects-the-refund-policy-on-hello", "greets", "refund-on-cancelled-flight", "simulated-refund"]
    assert keys(tag="smoke") == ["expects-the-refund-policy-on-hello", "greets"]
    assert keys(tag="refunds", kind="simulated") == ["simulated-refund"]
    assert keys(q="cancelled") == ["refund-on-cancelled-flight"]
    assert keys(tag="nobody-uses-this") == []
    page = tester.get(cases_path(agent), limit=2, offset=2).json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (4, 2, 2, 2)


def test_an_unknown_assertion_type_is_refused_with_the_path_of_the_assertion(tester: ApiClient, agent: Agent) -> None:
    body = assert_error(
        tester.post(cases_path(agent), scripted("bad", ("Hi", [{"type": "guideline_liked", "guideline": "greet"}]))),
        422,
        "validation_failed",
    )

    assert body["details"][0]["path"] == "turns.0.assertions.0"
    assert "guideline_liked" in body["message"] and "turns.0.assertions.0" in body["message"]
    assert not EvalCase.objects.exists()


def test_a_bad_regular_expression_is_refused_naming_the_pattern_field(tester: ApiClient, agent: Agent) -> None:
    body = assert_error(
        tester.post(cases_path(agent), scripted("bad", ("Hi", [{"type": "reply_matches", "pattern": "(unclosed"}]))),
        422,
        "validation_failed",
    )

    assert body["details"][0]["path"] == "turns.0.assertions.0.pattern"
    assert "not a valid regular expression" in body["message"]


def test_a_regex_argument_matcher_is_checked_too(tester: ApiClient, agent: Agent) -> None:
    assertion = {"type": "tool_called", "tool": "lookup_booking", "arguments": {"ref": {"op": "regex", "value": "[A-"}}}

    body = assert_error(tester.post(cases_path(agent), scripted("bad", ("Hi", [assertion]))), 422)

    assert body["details"][0]["path"].startswith("turns.0.assertions.0.arguments.ref")


def test_a_scripted_case_without_turns_is_refused_and_the_message_names_turns(tester: ApiClient, agent: Agent) -> None:
    body = assert_error(tester.post(cases_path(agent), {"key": "empty", "name": "Empty"}), 422, "validation_failed")

    assert "turns" in body["message"]


def test_a_missing_name_and_a_malformed_key_are_refused_naming_each_field(tester: ApiClient, agent: Agent) -> None:
    missing = assert_error(tester.post(cases_path(agent), {"key": "x", "turns": [{"message": "Hi"}]}), 422)
    malformed = assert_error(tester.post(cases_path(agent), scripted("Not A Slug", ("Hi", []))), 422)

    assert missing["details"][0]["path"] == "name"
    assert malformed["details"][0]["path"] == "key"


def test_a_taken_key_is_a_conflict(tester: ApiClient, agent: Agent) -> None:
    create_case(tester, agent, GREETS)

    body = assert_error(tester.post(cases_path(agent), GREETS), 409, "conflict")

    assert "greets" in body["message"]


def test_an_update_with_a_stale_revision_is_refused_and_keeps_the_other_change(tester: ApiClient, agent: Agent) -> None:
    case = create_case(tester, agent, GREETS)
    path = cases_path(agent, f"/{case['id']}")
    assert tester.patch(path, {"tags": ["smoke", "greetings"], "revision": 1}).status_code == 200

    body = assert_error(tester.patch(path, {"name": "Overwrites", "revision": 1}), 409, "stale_revision")

    assert "reload" in body["message"]
    stored = EvalCase.objects.get(pk=case["id"])
    assert (stored.name, stored.tags, stored.revision) == ("Greets", ["smoke", "greetings"], 2)


def test_an_update_that_breaks_the_case_is_refused_and_changes_nothing(tester: ApiClient, agent: Agent) -> None:
    case = create_case(tester, agent, GREETS)

    body = assert_error(tester.patch(cases_path(agent, f"/{case['id']}"), {"turns": []}), 422, "validation_failed")

    assert "turns" in body["message"]
    assert EvalCase.objects.get(pk=case["id"]).revision == 1


def test_a_case_becomes_simulated_when_the_simulation_replaces_its_turns(tester: ApiClient, agent: Agent) -> None:
    case = create_case(tester, agent, GREETS)
    simulation = {"persona": "A polite traveller", "goal": "Be greeted"}

    response = tester.patch(
        cases_path(agent, f"/{case['id']}"), {"kind": "simulated", "turns": [], "simulation": simulation}
    )

    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "simulated"
    assert response.json()["definition"]["simulation"]["goal"] == "Be greeted"
    assert "turns" not in response.json()["definition"]


# ------------------------------------------------------------------------------------------------------ suites


EVERY_KIND_SUITE: dict[str, Any] = {
    "format": "decorum-test-suite",
    "version": 1,
    "agent": "Skyway",
    "cases": [
        {
            "key": "scripted-everything",
            "name": "Every per-turn assertion",
            "description": "Covers the assertion kinds «with» unicode.",
            "tags": ["smoke", "refunds"],
            "customer": {"name": "Grace", "tags": ["vip"], "variables": {"tier": "gold"}},
            "turns": [
                {
                    "message": "Hello, I want a refund for ABC123",
                    "assertions": [
                        {"type": "guideline_matched", "guideline": "greet", "note": "be polite"},
                        {"type": "guideline_not_matched", "guideline": "human-handoff"},
                        {"type": "guideline_dropped", "guideline": "refund-policy", "reason_kind": "overrides"},
                        {
                            "type": "tool_called",
                            "tool": "lookup_booking",
                            "arguments": {
                                "booking_reference": {"op": "equals", "value": "ABC123"},
                                "channel": {"op": "contains", "value": "web"},
                                "date": {"op": "regex", "value": "^2025-"},
                                "note": {"op": "any", "value": None},
                            },
                        },
                        {"type": "tool_not_called", "tool": "cancel_booking"},
                        {"type": "journey_entered", "journey": "rebooking"},
                        {"type": "journey_in_state", "journey": "rebooking", "state": "ask-booking"},
                        {"type": "journey_completed", "journey": "baggage-claim"},
                        {"type": "journey_exited", "journey": "rebooking"},
                        {"type": "handoff_requested"},
                        {"type": "no_handoff"},
                        {"type": "canned_used", "canned": "greeting"},
                        {"type": "reply_contains", "text": "refund"},
                        {"type": "reply_not_contains", "text": "sorry"},
                        {"type": "reply_matches", "pattern": "(?i)ref(und)?"},
                        {"type": "criterion", "criterion": "The reply apologises and offers a free rebooking"},
                        {"type": "tokens_under", "max_tokens": 20000},
                        {"type": "latency_under", "max_ms": 60000},
                    ],
                },
                {"message": "Thanks!"},
            ],
            "assertions": [{"type": "reply_not_contains", "text": "error"}],
            "mocks": [
                {"tool": "lookup_booking", "arguments": {"booking_reference": "ABC123"}, "result": {"status": "ok"}},
                {"tool": "cancel_booking", "error": "not allowed in tests"},
            ],
        },
        {
            "key": "simulated-rebooking",
            "name": "A simulated rebooking",
            "kind": "simulated",
            "simulation": {
                "persona": "A hurried business traveller",
                "goal": "Move the flight to Friday",
                "milestones": ["gives the booking reference", "accepts the fee"],
                "facts": {"booking_reference": "ABC123"},
                "opening": "I need to change my flight",
                "max_turns": 5,
            },
            "assertions": [
                {"type": "turns_to_goal", "max_turns": 5},
                {"type": "journey_completed", "journey": "rebooking"},
            ],
        },
    ],
}


def test_the_suite_round_trips_losslessly_through_export_and_import(tester: ApiClient, agent: Agent) -> None:
    other = make_agent("Second Agent")
    first_import = tester.post(
        cases_path(agent, "/import"), raw=yaml.safe_dump(EVERY_KIND_SUITE), content_type="application/yaml"
    )
    assert first_import.status_code == 200, first_import.content
    assert first_import.json() == {"created": 2, "updated": 0, "deleted": 0}

    exported_yaml = tester.get(cases_path(agent, "/export"), format="yaml")
    assert exported_yaml["Content-Type"].startswith("text/yaml")
    into_other = tester.post(cases_path(other, "/import"), raw=exported_yaml.content, content_type="application/yaml")
    assert into_other.json() == {"created": 2, "updated": 0, "deleted": 0}
    first = tester.get(cases_path(agent, "/export")).json()
    second = tester.get(cases_path(other, "/export")).json()

    assert first["format"] == "decorum-test-suite"
    assert (first["agent"], second["agent"]) == (agent.name, "Second Agent")
    assert first["cases"] == second["cases"]
    by_key = {case["key"]: case for case in first["cases"]}
    assert (
        by_key["scripted-everything"]["turns"][0]["assertions"]
        == EVERY_KIND_SUITE["cases"][0]["turns"][0]["assertions"]
    )
    assert by_key["simulated-rebooking"]["simulation"] == EVERY_KIND_SUITE["cases"][1]["simulation"]
    again = tester.post(cases_path(other, "/import"), raw=json.dumps(second))
    assert again.json() == {"created": 0, "updated": 0, "deleted": 0}  # nothing changed: nothing rewritten


def test_an_import_with_replace_updates_creates_and_deletes_and_counts_each(tester: ApiClient, agent: Agent) -> None:
    create_case(tester, agent, GREETS)
    create_case(tester, agent, WRONG)
    changed_greets = {**GREETS, "name": "Greets, renamed"}
    suite = {"format": "decorum-test-suite", "version": 1, "cases": [changed_greets, REFUND]}

    response = tester.post(cases_path(agent, "/import"), suite, replace="true")

    assert response.json() == {"created": 1, "updated": 1, "deleted": 1}
    assert sorted(EvalCase.objects.values_list("key", "name")) == [
        ("greets", "Greets, renamed"),
        ("refund-on-cancelled-flight", "Refund on cancelled flight"),
    ]
    assert EvalCase.objects.get(key="greets").revision == 2


def test_an_invalid_suite_changes_nothing_and_names_the_case_field(tester: ApiClient, agent: Agent) -> None:
    create_case(tester, agent, GREETS)
    bad = {**REFUND, "turns": [{"message": "Hi", "assertions": [{"type": "reply_matches", "pattern": "(("}]}]}
    suite = {"format": "decorum-test-suite", "version": 1, "cases": [{**GREETS, "name": "Changed"}, bad]}

    body = assert_error(tester.post(cases_path(agent, "/import"), suite, replace="true"), 422, "validation_failed")

    assert body["details"][0]["path"] == "cases.1.turns.0.assertions.0.pattern"
    assert list(EvalCase.objects.values_list("key", "name")) == [("greets", "Greets")]


def test_a_suite_that_does_not_parse_is_a_400_naming_the_format(tester: ApiClient, agent: Agent) -> None:
    broken_yaml = tester.post(cases_path(agent, "/import"), raw="cases: [unclosed", content_type="application/yaml")
    broken_json = tester.post(cases_path(agent, "/import"), raw='{"cases": ')

    assert "YAML" in assert_error(broken_yaml, 400, "invalid_yaml")["message"]
    assert "JSON" in assert_error(broken_json, 400, "invalid_json")["message"]


# ---------------------------------------------------------------------------------------- from a conversation


def _sandbox_conversation(agent: Agent, *messages: str) -> Any:
    session = make_session(agent, make_customer("Sandbox Customer"), created_by=api_user_for("tester"))
    for text in messages:
        customer_message_post(session, text=text)
    return session


def test_a_sandbox_conversation_is_proposed_as_a_case_with_assertions_from_its_traces(
    tester: ApiClient, demo: Agent
) -> None:
    session = _sandbox_conversation(demo, "Hello!", "I want a refund for my cancelled flight, booking ABC123")

    response = tester.post(cases_path(demo, "/from-session"), {"session": str(session.uid)})

    assert response.status_code == 200, response.content
    proposal = response.json()
    assert [turn["message"] for turn in proposal["turns"]] == [
        "Hello!",
        "I want a refund for my cancelled flight, booking ABC123",
    ]
    assert {"type": "guideline_matched", "guideline": "greet"} in proposal["turns"][0]["assertions"]
    assert {
        "type": "tool_called",
        "tool": "lookup_booking",
        "arguments": {"booking_reference": {"op": "equals", "value": "ABC123"}},
    } in proposal["turns"][1]["assertions"]
    assert proposal["tags"] == ["sandbox"]
    assert not EvalCase.objects.exists()  # a proposal only
    assert tester.post(cases_path(demo), proposal).status_code == 201  # and it is a valid case as it stands


def test_a_conversation_up_to_an_offset_is_saved_with_overrides(tester: ApiClient, demo: Agent) -> None:
    session = _sandbox_conversation(demo, "Hello!", "I want a refund for my cancelled flight, booking ABC123")
    first_reply = (
        Event.objects.filter(session=session, kind=EventKind.MESSAGE, source=EventSource.AGENT)
        .order_by("offset")
        .first()
    )
    assert first_reply is not None

    response = tester.post(
        cases_path(demo, "/from-session"),
        {"session": str(session.uid), "offset": first_reply.offset, "save": True, "overrides": {"key": "hello-only"}},
    )

    assert response.status_code == 201, response.content
    case = response.json()
    assert (case["key"], case["source_session"]) == ("hello-only", str(session.uid))
    assert [turn["message"] for turn in case["definition"]["turns"]] == ["Hello!"]


def test_an_offset_the_session_does_not_have_is_refused_naming_offset(tester: ApiClient, demo: Agent) -> None:
    session = _sandbox_conversation(demo, "Hello!")

    body = assert_error(
        tester.post(cases_path(demo, "/from-session"), {"session": str(session.uid), "offset": 999}), 422
    )

    assert body["details"][0]["path"] == "offset"


def test_a_conversation_of_another_agent_or_another_tester_is_not_found(tester: ApiClient, demo: Agent) -> None:
    elsewhere = _sandbox_conversation(make_agent("Elsewhere"), "Hello!")
    mine = _sandbox_conversation(demo, "Hello!")

    assert_error(tester.post(cases_path(demo, "/from-session"), {"session": str(elsewhere.uid)}), 404, "not_found")
    editor = api_client("editor")  # an editor sees the sandbox conversations they started, not a tester's
    assert_error(editor.post(cases_path(demo, "/from-session"), {"session": str(mine.uid)}), 404, "not_found")


# ------------------------------------------------------------------------------------------------------- runs


def test_a_run_on_the_demo_draft_finishes_with_results_that_explain_each_failure(
    tester: ApiClient, demo: Agent
) -> None:
    for case in (GREETS, REFUND, WRONG):
        create_case(tester, demo, case)

    response = tester.post(runs_path(demo), {"version": "draft", "repeats": 2, "concurrency": 2})

    assert response.status_code == 201, response.content
    run = response.json()
    assert run["status"] == "failed"  # one case of three fails: below the default threshold of 100%
    assert (run["progress_done"], run["progress_total"]) == (6, 6)
    assert run["version"] is None and run["version_label"].startswith("draft")
    assert (run["purpose"], run["repeats"], run["concurrency"]) == ("api", 2, 2)
    summary = run["summary"]
    assert (summary["attempts"], summary["passed"], summary["failed"]) == (6, 4, 2)
    assert summary["pass_rate"] == pytest.approx(4 / 6)
    assert summary["by_case"]["greets"]["pass_hat_k"] == 1.0
    assert summary["by_case"]["expects-the-refund-policy-on-hello"]["pass_at_k"] == 0.0
    assert summary["tool_call_accuracy"] == 1.0
    assert summary["llm_calls"] > 0 and summary["latency_p95_ms"] >= summary["latency_p50_ms"]
    assert "greet" not in run["coverage"]["guidelines_never_active"]
    assert "baggage-claim" in run["coverage"]["states_never_reached"]
    assert tester.get(runs_path(demo, f"/{run['id']}")).json() == run

    results = tester.get(runs_path(demo, f"/{run['id']}/results")).json()
    assert results["count"] == 6
    assert [(item["case_key"], item["repeat"], item["status"]) for item in results["items"]] == [
        ("expects-the-refund-policy-on-hello", 0, "failed"),
        ("expects-the-refund-policy-on-hello", 1, "failed"),
        ("greets", 0, "passed"),
        ("greets", 1, "passed"),
        ("refund-on-cancelled-flight", 0, "passed"),
        ("refund-on-cancelled-flight", 1, "passed"),
    ]
    failure = results["items"][0]
    (check,) = failure["assertions"]
    assert (check["passed"], check["scope"], check["note"]) == (False, 0, "deliberately wrong")
    assert "refund-policy" in check["cause"]
    turn = failure["turns"][0]
    assert (turn["customer"], turn["status"]) == ("Hello!", "done")
    assert "greet" in turn["active"] and turn["reply"]
    assert turn["trace_url"].endswith(f"/sandbox/sessions/{failure['session']}/turns/{turn['turn_id']}/trace/")
    assert check["trace_url"] == turn["trace_url"]
    assert failure["session_url"].endswith(f"/sandbox/sessions/{failure['session']}/")
    assert failure["metrics"]["turns"] == 1
    refund_turn = results["items"][4]["turns"][0]
    assert refund_turn["tools"][-1]["arguments"] == {"booking_reference": "ABC123"}
    assert refund_turn["dropped"][0]["guideline"] == "refund-policy"


def test_the_seeded_demo_suite_passes_on_the_demo_draft_through_the_api(tester: ApiClient) -> None:
    agent, _version = demo_seed()
    seeded = EvalCase.objects.filter(agent=agent).count()
    assert seeded >= 15

    run = tester.post(runs_path(agent), {"version": "draft"}).json()

    assert run["status"] == "passed", {key: row for key, row in run["summary"]["by_case"].items() if row["passed"] == 0}
    assert (run["summary"]["cases"], run["summary"]["pass_rate"]) == (seeded, 1.0)


def test_the_results_filter_by_case_and_by_failure(tester: ApiClient, demo: Agent) -> None:
    create_case(tester, demo, GREETS)
    create_case(tester, demo, WRONG)
    run = tester.post(runs_path(demo), {}).json()

    failed = tester.get(runs_path(demo, f"/{run['id']}/results"), failed="true").json()
    greets = tester.get(runs_path(demo, f"/{run['id']}/results"), case="greets").json()
    passed = tester.get(runs_path(demo, f"/{run['id']}/results"), status="passed", limit=1).json()

    assert [item["case_key"] for item in failed["items"]] == ["expects-the-refund-policy-on-hello"]
    assert [item["case_key"] for item in greets["items"]] == ["greets"]
    assert (passed["count"], passed["limit"]) == (1, 1)


def test_a_run_selects_cases_by_tag_and_key_and_meets_a_lower_threshold(tester: ApiClient, demo: Agent) -> None:
    for case in (GREETS, REFUND, WRONG):
        create_case(tester, demo, case)

    by_tag = tester.post(runs_path(demo), {"tags": ["smoke"], "min_pass_rate": 0.5}).json()
    by_key = tester.post(runs_path(demo), {"keys": ["refund-on-cancelled-flight"], "version": "published"}).json()

    assert sorted(by_tag["summary"]["by_case"]) == ["expects-the-refund-policy-on-hello", "greets"]
    assert (by_tag["status"], by_tag["min_pass_rate"]) == ("passed", 0.5)
    assert sorted(by_key["summary"]["by_case"]) == ["refund-on-cancelled-flight"]
    assert (by_key["version"], by_key["version_label"], by_key["status"]) == (1, "v1", "passed")
    listed = tester.get(runs_path(demo)).json()
    assert [item["id"] for item in listed["items"]] == [by_key["id"], by_tag["id"]]
    assert "coverage" not in listed["items"][0]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"version": 7}, "version"),
        ({"version": "tomorrow"}, "version"),
        ({"version": True}, "version"),
        ({"version": "0"}, "version"),
        ({"keys": ["no-such-case"]}, "cases"),
        ({"repeats": 11}, "repeats"),
        ({"concurrency": 0}, "concurrency"),
        ({"min_pass_rate": 1.5}, "min_pass_rate"),
        ({"baseline": 987654}, "baseline"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_a_run_with_a_wrong_choice_is_refused_naming_the_field(
    tester: ApiClient, demo: Agent, body: dict[str, Any], path: str
) -> None:
    create_case(tester, demo, GREETS)

    error = assert_error(tester.post(runs_path(demo), body), 422, "validation_failed")

    assert error["details"][0]["path"] == path
    assert not EvalRun.objects.exists()


def test_a_run_without_any_test_case_is_refused_with_a_hint(tester: ApiClient, demo: Agent) -> None:
    body = assert_error(tester.post(runs_path(demo), {}), 422, "validation_failed")

    assert "no test case" in body["message"].lower()


def test_cancelling_a_queued_run_cancels_its_attempts(tester: ApiClient, demo: Agent) -> None:
    create_case(tester, demo, GREETS)
    run = run_create(agent=demo, version=None, actor=SYSTEM, repeats=3, start=False)

    response = tester.post(runs_path(demo, f"/{run.pk}/cancel"))

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["cancel_requested"]) == ("cancelled", True)
    assert set(EvalResult.objects.filter(run=run).values_list("status", flat=True)) == {"cancelled"}


def test_cancelling_a_finished_run_is_refused_with_a_clear_message(tester: ApiClient, demo: Agent) -> None:
    create_case(tester, demo, GREETS)
    run = tester.post(runs_path(demo), {}).json()
    assert run["status"] == "passed"

    body = assert_error(tester.post(runs_path(demo, f"/{run['id']}/cancel")), 409, "run_finished")

    assert body["message"] == (
        f"Run {run['id']} has already finished (passed); only a queued or running run can be cancelled."
    )
    assert EvalRun.objects.get(pk=run["id"]).status == "passed"


def test_comparing_a_broken_draft_with_the_published_version_shows_the_regression_first(
    tester: ApiClient, demo: Agent
) -> None:
    create_case(tester, demo, GREETS)
    create_case(tester, demo, REFUND)
    published = tester.post(runs_path(demo), {"version": "published"}).json()
    greet = demo.guidelines.get(key="greet")
    editor = api_client("editor")
    assert editor.patch(f"/guidelines/{greet.pk}", {"enabled": False}).status_code == 200
    draft = tester.post(runs_path(demo), {"version": "draft", "baseline": published["id"]}).json()
    assert (published["status"], draft["status"], draft["baseline"]) == ("passed", "failed", published["id"])

    explicit = tester.get(runs_path(demo, f"/{draft['id']}/compare"), baseline=published["id"])
    by_default = tester.get(runs_path(demo, f"/{draft['id']}/compare"))

    assert explicit.status_code == 200, explicit.content
    comparison = explicit.json()
    assert by_default.json() == comparison
    assert (comparison["baseline"]["id"], comparison["candidate"]["id"]) == (published["id"], draft["id"])
    assert (comparison["regressions"], comparison["improvements"]) == (1, 0)
    first = comparison["cases"][0]
    assert (first["case_key"], first["change"]) == ("greets", "regression")
    assert (first["baseline"]["pass_rate"], first["candidate"]["pass_rate"]) == (1.0, 0.0)
    assert "active" in first["turns"][0]["changed"]
    assert "greet" in first["turns"][0]["baseline"]["active"]
    assert "greet" not in first["turns"][0]["candidate"]["active"]
    assert comparison["cases"][1]["case_key"] == "refund-on-cancelled-flight"


def test_comparing_without_a_baseline_is_refused_naming_the_field(tester: ApiClient, demo: Agent) -> None:
    create_case(tester, demo, GREETS)
    run = tester.post(runs_path(demo), {}).json()

    body = assert_error(tester.get(runs_path(demo, f"/{run['id']}/compare")), 422, "validation_failed")

    assert body["details"][0]["path"] == "baseline"


# ----------------------------------------------------------------------------------------------- authorization


def _case_and_run(agent: Agent) -> tuple[EvalCase, EvalRun]:
    from behavior.evaluations.cases import case_create

    case = case_create(agent=agent, data=GREETS, actor=SYSTEM)
    return case, run_create(agent=agent, version=None, actor=SYSTEM, start=False)


@pytest.mark.parametrize("role", ["tester", "editor", "admin"])
def test_testers_editors_and_admins_work_with_cases_and_runs(role: str, agent: Agent) -> None:
    client = api_client(role)
    _case, run = _case_and_run(agent)

    assert client.get(cases_path(agent)).json()["count"] == 1
    assert client.post(cases_path(agent), {**GREETS, "key": f"greets-{role}"}).status_code == 201
    assert client.get(runs_path(agent, f"/{run.pk}")).status_code == 200
    assert client.post(runs_path(agent, f"/{run.pk}/cancel")).status_code == 200


def test_an_operator_key_is_refused_with_403_on_every_evaluation_route(agent: Agent) -> None:
    operator = api_client("operator")
    case, run = _case_and_run(agent)
    calls = [
        operator.get(cases_path(agent)),
        operator.post(cases_path(agent), {**GREETS, "key": "by-an-operator"}),
        operator.get(cases_path(agent, f"/{case.pk}")),
        operator.patch(cases_path(agent, f"/{case.pk}"), {"name": "Renamed"}),
        operator.delete(cases_path(agent, f"/{case.pk}")),
        operator.get(cases_path(agent, "/export")),
        operator.post(cases_path(agent, "/import"), {"format": "decorum-test-suite", "version": 1, "cases": []}),
        operator.post(cases_path(agent, "/from-session"), {"session": "00000000-0000-0000-0000-000000000007"}),
        operator.post(runs_path(agent), {}),
        operator.get(runs_path(agent)),
        operator.get(runs_path(agent, f"/{run.pk}")),
        operator.get(runs_path(agent, f"/{run.pk}/results")),
        operator.post(runs_path(agent, f"/{run.pk}/cancel")),
        operator.get(runs_path(agent, f"/{run.pk}/compare"), baseline=run.pk),
    ]

    for response in calls:
        body = assert_error(response, 403, "forbidden")
        assert body["details"]["allowed_roles"] == ["admin", "editor", "tester"]
    assert EvalCase.objects.get(pk=case.pk).name == "Greets"
    assert EvalRun.objects.get(pk=run.pk).status == "queued"


def test_an_outsider_and_an_anonymous_client_are_refused(agent: Agent) -> None:
    _case, run = _case_and_run(agent)
    outsider = api_client("tester", user=(former := api_user_for("tester")))
    former.groups.clear()  # no role left: the key stops working

    for client in (outsider, ApiClient(None)):
        assert_error(client.get(cases_path(agent)), 401, "unauthorized")
        assert_error(client.post(runs_path(agent), {}), 401, "unauthorized")
        assert_error(client.post(runs_path(agent, f"/{run.pk}/cancel")), 401, "unauthorized")
    assert EvalRun.objects.get(pk=run.pk).status == "queued"


def test_another_agents_case_and_run_are_not_found_through_this_agent(tester: ApiClient, agent: Agent) -> None:
    mine_case, mine_run = _case_and_run(agent)
    other = make_agent("Other Agent")
    case, run = _case_and_run(other)
    calls = [
        tester.get(cases_path(agent, f"/{case.pk}")),
        tester.patch(cases_path(agent, f"/{case.pk}"), {"name": "Hijacked"}),
        tester.delete(cases_path(agent, f"/{case.pk}")),
        tester.get(runs_path(agent, f"/{run.pk}")),
        tester.get(runs_path(agent, f"/{run.pk}/results")),
        tester.post(runs_path(agent, f"/{run.pk}/cancel")),
        tester.get(runs_path(agent, f"/{run.pk}/compare"), baseline=mine_run.pk),
        tester.get(runs_path(agent, f"/{mine_run.pk}/compare"), baseline=run.pk),
        tester.get("/agents/987654321/test-cases"),
    ]

    for response in calls:
        assert_error(response, 404, "not_found")
    assert EvalCase.objects.get(pk=case.pk).name == "Greets"
    assert EvalRun.objects.get(pk=run.pk).status == "queued"
    assert tester.get(cases_path(agent)).json()["count"] == 1  # the list holds this agent's cases only
    assert [item["id"] for item in tester.get(runs_path(agent)).json()["items"]] == [mine_run.pk]
    assert mine_case.agent_id == agent.pk


def test_the_openapi_schema_documents_the_evaluation_routes() -> None:
    from django.test import Client

    paths = Client().get("/api/openapi.json").json()["paths"]

    assert set(paths["/api/agents/{agent_id}/test-cases"]) == {"get", "post"}
    assert set(paths["/api/agents/{agent_id}/test-cases/{case_id}"]) == {"get", "patch", "delete"}
    assert "post" in paths["/api/agents/{agent_id}/test-runs/{run_id}/cancel"]
    assert "get" in paths["/api/agents/{agent_id}/test-runs/{run_id}/compare"]
