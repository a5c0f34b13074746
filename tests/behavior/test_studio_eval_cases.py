"""The studio's test case pages: the list (last results, filters, search, pages, the empty state), writing scripted
and simulated cases in the editor (messages kept on an error, each beside its field; rows added and removed;
an assertion's type and value changed; the YAML editor both ways; a stale revision), a case's page, deleting,
"Save as test case" from a real sandbox conversation, the suite's export and import, and who may do what."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.demo.seeding import demo_seed
from behavior.evaluations.cases import case_create, case_update
from behavior.evaluations.models import EvalCase, EvalResult, EvalRun
from sessions.models import Session, SessionSource
from sessions.services.core import session_create
from sessions.services.customers import customer_create
from sessions.services.messages import customer_message_post
from sessions.services.sandbox import flag_create
from tests.factories import make_guideline, make_session, make_tool
from tests.support.engine_responder import HeuristicLLM
from tests.support.realtime import realtime_settings
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db

SCRIPTED = {
    "key": "refund-late",
    "name": "Refund for a late flight",
    "tags": ["refunds", "smoke"],
    "turns": [
        {
            "message": "My flight was five hours late, I want a refund",
            "assertions": [
                {"type": "guideline_matched", "guideline": "refund-policy", "note": "the heart of it"},
                {"type": "tool_called", "tool": "lookup_booking", "arguments": {"booking_reference": "ABC123"}},
            ],
        }
    ],
    "assertions": [{"type": "no_handoff"}],
}
SIMULATED = {
    "key": "simulated-rebook",
    "name": "A hurried customer rebooks",
    "kind": "simulated",
    "simulation": {"persona": "In a hurry", "goal": "Rebook to tomorrow", "max_turns": 4},
    "assertions": [{"type": "turns_to_goal", "max_turns": 4}],
}


def list_url(agent: Agent, query: str = "") -> str:
    return reverse("studio:eval-case-list", args=[agent.pk]) + (f"?{query}" if query else "")


def create_url(agent: Agent) -> str:
    return reverse("studio:eval-case-create", args=[agent.pk])


def detail_url(case: EvalCase) -> str:
    return reverse("studio:eval-case-detail", args=[case.agent_id, case.pk])


def update_url(case: EvalCase) -> str:
    return reverse("studio:eval-case-update", args=[case.agent_id, case.pk])


def from_session_url(agent: Agent, session: Session, offset: int | None = None) -> str:
    url = reverse("studio:eval-case-from-session", args=[agent.pk]) + f"?session={session.uid}"
    return url + (f"&offset={offset}" if offset is not None else "")


def scripted_post(**overrides: Any) -> dict[str, Any]:
    """What the editor posts for a one-message scripted case with one check."""
    data: dict[str, Any] = {
        "key": "lost-bag",
        "name": "Lost bag claim",
        "description": "",
        "kind": "scripted",
        "tags": "bags, smoke",
        "customer.name": "Ada",
        "customer.tags": "vip",
        "customer.variables.name": ["loyalty_tier", ""],
        "customer.variables.value": ['"gold"', ""],
        "turns.0.message": "My bag did not arrive",
        "turns.0.assertions.0.type": "reply_contains",
        "turns.0.assertions.0.text": "claim",
        "turns.0.assertions.0.note": "",
        "simulation.persona": "",
        "simulation.goal": "",
        "simulation.max_turns": "6",
    }
    data.update(overrides)
    return data


def field_block(html: str, field_id: str) -> str:
    """The markup of one field's block (its input and messages), by the block's id."""
    start = html.index(f'id="{field_id}"')
    end = html.find('<div class="field', start + 10)
    return html[start : end if end > 0 else len(html)]


def assertion_rows(html: str, prefix: str) -> list[str]:
    """The markup of each assertion row whose id starts with `prefix` (e.g. f-turns-1-assertions-)."""
    rows = []
    for part in html.split('<div class="assertion-row')[1:]:
        if part.split('id="', 1)[1].startswith(prefix):
            rows.append(part)
    return rows


@pytest.fixture
def case(agent: Agent) -> EvalCase:
    make_guideline(agent, "refund-policy", condition="The customer asks for a refund")
    make_tool(agent, "lookup_booking")
    return case_create(agent=agent, data=SCRIPTED, actor=None)


# ---------------------------------------------------------------- the list


def test_the_list_shows_each_case_with_its_kind_tags_counts_and_last_result(
    tester_client: Client, agent: Agent, case: EvalCase
) -> None:
    case_create(agent=agent, data=SIMULATED, actor=None)
    run = EvalRun.objects.create(agent=agent, status="failed")
    EvalResult.objects.create(run=run, case=case, case_key=case.key, status="passed", repeat=0)
    EvalResult.objects.create(run=run, case=case, case_key=case.key, status="failed", repeat=1)

    html = tester_client.get(list_url(agent)).content.decode()

    assert "refund-late" in html and "Refund for a late flight" in html and "simulated-rebook" in html
    assert "refunds" in html and "smoke" in html
    assert "1 turn · 3 checks" in html and "simulated · 1 check" in html
    assert 'result-failed">failed' in html  # the latest attempt
    assert reverse("studio:eval-run-detail", args=[agent.pk, run.pk]) in html
    assert "never run" in html
    assert reverse("studio:eval-case-detail", args=[agent.pk, case.pk]) in html


def test_the_empty_list_explains_a_test_case_and_both_ways_to_make_one(tester_client: Client, agent: Agent) -> None:
    html = tester_client.get(list_url(agent)).content.decode()
    assert "No test cases yet." in html
    assert create_url(agent) in html
    assert "Save as test case" in html
    assert reverse("studio:eval-case-from-session", args=[agent.pk]) in html


def test_the_list_filters_by_tag_and_kind_and_searches_key_and_name(
    tester_client: Client, agent: Agent, case: EvalCase
) -> None:
    case_create(agent=agent, data=SIMULATED, actor=None)
    by_tag = tester_client.get(list_url(agent, "tag=refunds")).content.decode()
    by_kind = tester_client.get(list_url(agent, "kind=simulated")).content.decode()
    by_text = tester_client.get(list_url(agent, "q=HURRIED")).content.decode()
    nothing = tester_client.get(list_url(agent, "q=nothing-like-it")).content.decode()
    assert "refund-late" in by_tag and "simulated-rebook" not in by_tag
    assert "simulated-rebook" in by_kind and "refund-late" not in by_kind
    assert "simulated-rebook" in by_text and "refund-late" not in by_text
    assert "No test case matches “nothing-like-it”" in nothing


def test_the_list_shows_fifty_cases_a_page_and_htmx_gets_the_results_only(tester_client: Client, agent: Agent) -> None:
    for number in range(51):
        case_create(
            agent=agent, data={**SCRIPTED, "key": f"numbered-{number:02d}", "name": f"Case {number}"}, actor=None
        )
    first = tester_client.get(list_url(agent)).content.decode()
    second = tester_client.get(list_url(agent, "page=2")).content.decode()
    fragment = tester_client.get(list_url(agent, "page=2"), **HX).content.decode()
    assert "numbered-00" in first and "numbered-49" in first and "numbered-50" not in first
    assert "Page 1 of 2" in first
    assert "numbered-50" in second and "numbered-00" not in second
    assert "<html" not in fragment and 'id="case-results"' in fragment and "numbered-50" in fragment


# ---------------------------------------------------------------- writing cases


def test_a_tester_creates_a_scripted_case_through_the_form(tester_client: Client, agent: Agent) -> None:
    response = tester_client.post(create_url(agent), scripted_post())
    case = EvalCase.objects.get(agent=agent, key="lost-bag")
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    assert case.kind == "scripted" and case.tags == ["bags", "smoke"] and case.name == "Lost bag claim"
    assert case.definition["customer"] == {"name": "Ada", "tags": ["vip"], "variables": {"loyalty_tier": "gold"}}
    assert case.definition["turns"] == [
        {"message": "My bag did not arrive", "assertions": [{"type": "reply_contains", "text": "claim"}]}
    ]


def test_a_tester_creates_a_simulated_case_with_milestones_facts_and_a_mock(
    tester_client: Client, agent: Agent
) -> None:
    data = scripted_post(
        kind="simulated",
        key="sim-rebook",
        **{
            "simulation.persona": "A frequent flyer in a hurry",
            "simulation.goal": "Move the flight to tomorrow",
            "simulation.milestones": "gives the booking reference\n\nconfirms the new flight\n",
            "simulation.facts": "booking_reference = ABC123\nname = Ada",
            "simulation.opening": "I need to change my flight",
            "simulation.max_turns": "5",
            "assertions.0.type": "turns_to_goal",
            "assertions.0.max_turns": "5",
            "mocks.0.tool": "lookup_booking",
            "mocks.0.arguments.name": ["booking_reference"],
            "mocks.0.arguments.op": ["equals"],
            "mocks.0.arguments.value": ["ABC123"],
            "mocks.0.result": '{"status": "confirmed"}',
            "mocks.0.error": "",
        },
    )
    response = tester_client.post(create_url(agent), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    definition = EvalCase.objects.get(key="sim-rebook").definition
    assert "turns" not in definition  # the scripted part typed before switching is not saved
    assert definition["simulation"] == {
        "persona": "A frequent flyer in a hurry",
        "goal": "Move the flight to tomorrow",
        "milestones": ["gives the booking reference", "confirms the new flight"],
        "facts": {"booking_reference": "ABC123", "name": "Ada"},
        "opening": "I need to change my flight",
        "max_turns": 5,
    }
    assert definition["assertions"] == [{"type": "turns_to_goal", "max_turns": 5}]
    assert definition["mocks"] == [
        {
            "tool": "lookup_booking",
            "arguments": {"booking_reference": {"op": "equals", "value": "ABC123"}},
            "result": {"status": "confirmed"},
        }
    ]


def test_a_validation_error_keeps_everything_typed_and_names_the_field(tester_client: Client, agent: Agent) -> None:
    data = scripted_post(
        **{
            "turns.0.assertions.0.type": "reply_matches",
            "turns.0.assertions.0.pattern": "refund(",
            "turns.0.assertions.0.note": "typed with care",
        }
    )
    response = tester_client.post(create_url(agent), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert not EvalCase.objects.exists()
    block = field_block(html, "f-turns-0-assertions-0-pattern")
    assert "not a valid regular expression" in block and 'value="refund("' in block
    assert "<code>turns.0.assertions.0.pattern</code>" in html  # and in the summary at the top
    assert 'href="#f-turns-0-assertions-0-pattern"' in html
    assert "typed with care" in html and "My bag did not arrive" in html and "bags, smoke" in html
    assert 'option value="reply_matches" selected' in html


def test_a_fact_line_without_an_equals_sign_and_a_missing_key_are_shown_at_their_fields(
    tester_client: Client, agent: Agent
) -> None:
    data = scripted_post(
        key="",
        kind="simulated",
        **{"simulation.persona": "p", "simulation.goal": "g", "simulation.facts": "booking ABC123"},
    )
    html = tester_client.post(create_url(agent), data).content.decode()
    assert "line 1 is not “name = value”" in field_block(html, "f-simulation-facts")
    assert "booking ABC123" in field_block(html, "f-simulation-facts")
    assert "field-error" in field_block(html, "f-key")


def test_a_taken_key_is_refused_beside_the_key(tester_client: Client, agent: Agent, case: EvalCase) -> None:
    response = tester_client.post(create_url(agent), scripted_post(key=case.key))
    assert response.status_code == 409
    assert "already taken" in field_block(response.content.decode(), "f-key")


def test_add_and_remove_buttons_rerender_the_form_with_what_was_typed(tester_client: Client, agent: Agent) -> None:
    added = tester_client.post(create_url(agent), scripted_post(op="add:turns.0.assertions"))
    html = added.content.decode()
    assert added.status_code == 200 and not EvalCase.objects.exists()
    assert 'name="turns.0.assertions.1.type"' in html and 'value="claim"' in html
    assert html.count('name="customer.variables.name"') == 2  # the typed row and one empty row, not one more

    removed = tester_client.post(create_url(agent), scripted_post(op="remove:turns.0.assertions.0"))
    assert 'name="turns.0.assertions.0.type"' not in removed.content.decode()

    more = tester_client.post(create_url(agent), scripted_post(op="add:turns"), **HX)
    fragment = more.content.decode()
    assert "<html" not in fragment and 'id="case-editor"' in fragment
    assert 'name="turns.1.message"' in fragment and "My bag did not arrive" in fragment


def test_moving_a_message_up_keeps_its_checks_with_it(tester_client: Client, agent: Agent) -> None:
    data = scripted_post(**{"turns.1.message": "Second", "turns.1.assertions.0.type": "no_handoff", "op": "up:turns.1"})
    html = tester_client.post(create_url(agent), data).content.decode()
    assert html.index("Second") < html.index("My bag did not arrive")
    assert 'name="turns.0.assertions.0.type"' in html and 'name="turns.1.assertions.0.type"' in html


def test_an_editor_changes_an_assertions_type_and_value(editor_client: Client, agent: Agent, case: EvalCase) -> None:
    page = editor_client.get(update_url(case)).content.decode()
    assert 'name="turns.0.assertions.0.type"' in page and 'value="booking_reference"' in page
    data = {
        "revision": "1",
        "key": case.key,
        "name": case.name,
        "kind": "scripted",
        "tags": "refunds",
        "customer.name": "Test customer",
        "turns.0.message": "My flight was five hours late, I want a refund",
        "turns.0.assertions.0.type": "reply_contains",  # was guideline_matched
        "turns.0.assertions.0.guideline": "refund-policy",  # still posted (hidden), ignored for this type
        "turns.0.assertions.0.text": "refund",
        "turns.0.assertions.1.type": "tool_called",
        "turns.0.assertions.1.tool": "lookup_booking",
        "turns.0.assertions.1.arguments.name": ["booking_reference", ""],
        "turns.0.assertions.1.arguments.op": ["contains", "equals"],
        "turns.0.assertions.1.arguments.value": ["abc", ""],
    }
    response = editor_client.post(update_url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.revision == 2 and case.tags == ["refunds"]
    assert case.definition["turns"][0]["assertions"] == [
        {"type": "reply_contains", "text": "refund"},
        {
            "type": "tool_called",
            "tool": "lookup_booking",
            "arguments": {"booking_reference": {"op": "contains", "value": "abc"}},
        },
    ]
    assert "assertions" not in case.definition  # the conversation check was removed (not posted)


def test_a_stale_revision_is_refused_with_the_edits_kept(editor_client: Client, agent: Agent, case: EvalCase) -> None:
    case_update(case, data={**SCRIPTED, "name": "Renamed by someone else"}, actor=None, revision=1)
    data = scripted_post(key=case.key, name="My own name", revision="1")
    response = editor_client.post(update_url(case), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone changed this test case since you opened it" in html
    assert 'value="My own name"' in html and "My bag did not arrive" in html
    assert 'name="revision" value="2"' in html  # saving again overwrites knowingly
    case.refresh_from_db()
    assert case.name == "Renamed by someone else"
    again = editor_client.post(update_url(case), scripted_post(key=case.key, name="My own name", revision="2"))
    assert again.status_code == 302
    case.refresh_from_db()
    assert case.name == "My own name" and case.revision == 3


# ---------------------------------------------------------------- the YAML editor


def test_the_yaml_editor_round_trips_the_case(editor_client: Client, agent: Agent, case: EvalCase) -> None:
    page = editor_client.get(update_url(case)).content.decode()
    start = page.index('id="i-yaml"')
    text = page[page.index(">", start) + 1 : page.index("</textarea>", start)]
    import html as html_module

    shown = yaml.safe_load(html_module.unescape(text))
    assert shown == case.definition

    changed = {**shown, "name": "Edited as YAML", "tags": ["yaml"]}
    response = editor_client.post(
        update_url(case), {"revision": "1", "source": "yaml", "yaml": yaml.safe_dump(changed), **scripted_post()}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.name == "Edited as YAML" and case.tags == ["yaml"] and case.definition == changed


def test_yaml_loads_into_the_form_and_its_errors_name_the_line_or_field(
    editor_client: Client, agent: Agent, case: EvalCase
) -> None:
    loaded = editor_client.post(
        update_url(case),
        {"revision": "1", "op": "yaml-to-form", "yaml": yaml.safe_dump({**SCRIPTED, "name": "From YAML"})},
    )
    assert loaded.status_code == 200 and 'value="From YAML"' in loaded.content.decode()

    broken = editor_client.post(update_url(case), {"revision": "1", "source": "yaml", "yaml": "key: a\n  name: [b"})
    assert broken.status_code == 422 and "line 2" in broken.content.decode()

    wrong = {**SCRIPTED, "turns": [{"message": "Hi", "assertions": [{"type": "reply_matches", "pattern": "("}]}]}
    invalid = editor_client.post(update_url(case), {"revision": "1", "source": "yaml", "yaml": yaml.safe_dump(wrong)})
    html = invalid.content.decode()
    assert invalid.status_code == 422 and "<code>turns.0.assertions.0.pattern</code>" in html
    assert "reply_matches" in html  # the YAML typed is still there
    case.refresh_from_db()
    assert case.revision == 1


# ---------------------------------------------------------------- one case, deleting


def test_the_case_page_reads_the_assertions_in_words(tester_client: Client, agent: Agent, case: EvalCase) -> None:
    html = tester_client.get(detail_url(case)).content.decode()
    assert "guideline matched: refund-policy" in html and "the heart of it" in html
    assert "tool called: lookup_booking (booking_reference equals &#x27;ABC123&#x27;)" in html
    assert "no handoff" in html
    assert update_url(case) in html and reverse("studio:eval-case-delete", args=[agent.pk, case.pk]) in html
    assert reverse("studio:eval-run-create", args=[agent.pk]) in html and 'name="keys" value="refund-late"' in html


def test_deleting_asks_first_then_deletes(tester_client: Client, agent: Agent, case: EvalCase) -> None:
    url = reverse("studio:eval-case-delete", args=[agent.pk, case.pk])
    assert "Delete the test case" in tester_client.get(url).content.decode()
    assert EvalCase.objects.filter(pk=case.pk).exists()
    response = tester_client.post(url)
    assert response.status_code == 302 and response["Location"] == list_url(agent)
    assert not EvalCase.objects.filter(pk=case.pk).exists()


# ---------------------------------------------------------------- from the sandbox


@pytest.fixture
def sandbox_conversation(settings: Any, monkeypatch: pytest.MonkeyPatch, tester_user: Any) -> Session:
    """The demo agent's sandbox conversation of two turns (rebooking; the second looks the booking up)."""
    realtime_settings(settings)
    monkeypatch.setattr("sessions.engine_bridge.llm_port_for", lambda snapshot: HeuristicLLM())
    agent, _version = demo_seed()
    agent.eval_cases.all().delete()
    customer = customer_create(name="Sam", tags=["vip"])
    session = session_create(agent=agent, customer=customer, source=SessionSource.SANDBOX, created_by=tester_user)
    customer_message_post(session, text="My flight SK123 was cancelled, I want to rebook")
    customer_message_post(session, text="booking ABC123")
    return session


@pytest.mark.django_db(transaction=True)
def test_save_as_test_case_proposes_the_matched_guideline_and_the_tool_call_with_its_arguments(
    tester_client: Client, sandbox_conversation: Session
) -> None:
    session, agent = sandbox_conversation, sandbox_conversation.agent
    response = tester_client.get(from_session_url(agent, session))
    html = response.content.decode()
    assert response.status_code == 200
    assert "My flight SK123 was cancelled, I want to rebook" in html and "booking ABC123" in html
    matched = [
        row
        for row in assertion_rows(html, "f-turns-0-assertions-")
        if 'option value="guideline_matched" selected' in row
    ]
    assert any('option value="cancelled-flight-options" selected' in row for row in matched)
    (tool_row,) = [
        row for row in assertion_rows(html, "f-turns-1-assertions-") if 'option value="tool_called" selected' in row
    ]
    assert 'option value="lookup_booking" selected' in tool_row
    assert 'value="booking_reference"' in tool_row and 'value="ABC123"' in tool_row

    saved = tester_client.post(
        from_session_url(agent, session),
        {**_posted_fields(html), "key": "saved-rebook", "name": "Saved rebook"},
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    case = EvalCase.objects.get(agent=agent, key="saved-rebook")
    assert case.source_session_id == session.pk
    second = case.definition["turns"][1]["assertions"]
    assert {
        "type": "tool_called",
        "tool": "lookup_booking",
        "arguments": {"booking_reference": {"op": "equals", "value": "ABC123"}},
    } in second
    assert {"type": "guideline_matched", "guideline": "cancelled-flight-options"} in case.definition["turns"][0][
        "assertions"
    ]
    assert case.definition["customer"]["tags"] == ["vip"]


@pytest.mark.django_db(transaction=True)
def test_a_flagged_reply_offers_save_as_test_case_up_to_that_reply(
    tester_client: Client, sandbox_conversation: Session, tester_user: Any
) -> None:
    session, agent = sandbox_conversation, sandbox_conversation.agent
    first_reply = session.events.filter(kind="message", source="agent").order_by("offset").first()
    assert first_reply is not None
    flag_create(session, offset=first_reply.offset, reason="Should ask for the booking first", user=tester_user)

    page = tester_client.get(reverse("sandbox:session", args=[session.uid])).content.decode()
    assert (
        f"{reverse('studio:eval-case-from-session', args=[agent.pk])}?session={session.uid}&amp;offset={first_reply.offset}"
        in page
    )
    assert 'id="save-as-test-case"' in page

    html = tester_client.get(from_session_url(agent, session, first_reply.offset)).content.decode()
    assert "My flight SK123 was cancelled" in html and "booking ABC123" not in html
    assert "Should ask for the booking first" in html  # the flag's reason is in the description


def test_the_session_of_another_agent_or_user_is_not_found(
    client_for: Any, tester_user: Any, editor_user: Any, agent: Agent, other_agent: Agent
) -> None:
    mine = make_session(other_agent, created_by=tester_user)
    theirs = make_session(agent, created_by=editor_user)
    tester = client_for(tester_user)
    assert tester.get(from_session_url(agent, mine)).status_code == 404
    assert tester.get(from_session_url(agent, theirs)).status_code == 404


def test_without_a_session_the_page_offers_the_users_sandbox_conversations(
    tester_client: Client, tester_user: Any, agent: Agent
) -> None:
    session = make_session(agent, created_by=tester_user, title="Lost bag chat")
    html = tester_client.get(reverse("studio:eval-case-from-session", args=[agent.pk])).content.decode()
    assert "Lost bag chat" in html and f"?session={session.uid}" in html


# ---------------------------------------------------------------- the suite


def test_the_suite_exports_as_yaml_and_json_and_imports_back(
    tester_client: Client, agent: Agent, case: EvalCase
) -> None:
    exported = tester_client.get(reverse("studio:eval-suite-export", args=[agent.pk]) + "?format=yaml")
    assert exported["Content-Disposition"].endswith('-tests.yaml"')
    suite = yaml.safe_load(exported.content)
    assert suite["format"] == "decorum-test-suite" and suite["cases"] == [case.definition]
    as_json = json.loads(
        tester_client.get(reverse("studio:eval-suite-export", args=[agent.pk]) + "?format=json").content
    )
    assert as_json == suite

    suite["cases"][0]["name"] = "Renamed in the file"
    suite["cases"].append({**SIMULATED})
    upload = SimpleUploadedFile("suite.json", json.dumps(suite).encode(), content_type="application/json")
    response = tester_client.post(reverse("studio:eval-suite-import", args=[agent.pk]), {"file": upload}, follow=True)
    assert "Suite imported: 1 created, 1 updated, 0 deleted." in response.content.decode()
    assert set(agent.eval_cases.values_list("name", flat=True)) == {"Renamed in the file", "A hurried customer rebooks"}

    only_one = {**suite, "cases": [SIMULATED]}
    response = tester_client.post(
        reverse("studio:eval-suite-import", args=[agent.pk]),
        {"text": yaml.safe_dump(only_one), "replace": "on"},
        follow=True,
    )
    assert "0 created, 0 updated, 1 deleted" in response.content.decode()
    assert list(agent.eval_cases.values_list("key", flat=True)) == ["simulated-rebook"]


def test_an_import_error_names_the_line_or_the_field_and_changes_nothing(
    tester_client: Client, agent: Agent, case: EvalCase
) -> None:
    url = reverse("studio:eval-suite-import", args=[agent.pk])
    broken = tester_client.post(url, {"text": "format: decorum-test-suite\ncases:\n  - key: [a\n"})
    assert (
        broken.status_code == 422
        and "line " in broken.content.decode()
        and "Nothing was imported" in broken.content.decode()
    )

    bad_case = {**SCRIPTED, "key": "bad-one", "turns": [{"message": ""}]}
    suite = {"format": "decorum-test-suite", "version": 1, "cases": [SIMULATED, bad_case]}
    invalid = tester_client.post(url, {"text": yaml.safe_dump(suite), "replace": "on"})
    html = invalid.content.decode()
    assert invalid.status_code == 422 and "cases.1.turns.0.message (case bad-one)" in html
    assert list(agent.eval_cases.values_list("key", flat=True)) == [case.key]

    empty = tester_client.post(url, {"text": ""})
    assert empty.status_code == 422 and "Choose a file or paste the suite." in empty.content.decode()


# ---------------------------------------------------------------- who may do what


def test_operators_and_outsiders_get_the_refusal_page(
    client_for: Any, operator_user: Any, outsider_user: Any, agent: Agent, case: EvalCase
) -> None:
    for user in (operator_user, outsider_user):
        client = client_for(user)
        for url in (list_url(agent), detail_url(case), update_url(case), create_url(agent)):
            response = client.get(url)
            assert response.status_code == 403 and "You may not open" in response.content.decode()
        assert client.post(create_url(agent), scripted_post()).status_code == 403
    assert EvalCase.objects.count() == 1


def test_the_navigation_shows_test_cases_to_testers_and_editors_only(
    client_for: Any, tester_user: Any, operator_user: Any, agent: Agent
) -> None:
    nav_link = f'href="{list_url(agent)}"'
    assert nav_link in client_for(tester_user).get(reverse("studio:guideline-list", args=[agent.pk])).content.decode()
    assert (
        nav_link
        not in client_for(operator_user).get(reverse("studio:guideline-list", args=[agent.pk])).content.decode()
    )


def test_a_case_of_another_agent_is_not_found(editor_client: Client, agent: Agent, other_agent: Agent) -> None:
    foreign = case_create(agent=other_agent, data=SCRIPTED, actor=None)
    for name in ("studio:eval-case-detail", "studio:eval-case-update", "studio:eval-case-delete"):
        assert editor_client.get(reverse(name, args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.post(reverse("studio:eval-case-delete", args=[agent.pk, foreign.pk])).status_code == 404
    assert EvalCase.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_user_text_is_shown_as_text_everywhere(tester_client: Client, agent: Agent, hostile: str) -> None:
    data = {
        **SCRIPTED,
        "key": "hostile",
        "name": hostile,
        "description": hostile,
        "tags": [],
        "turns": [{"message": hostile, "assertions": [{"type": "reply_contains", "text": hostile, "note": hostile}]}],
        "assertions": [{"type": "criterion", "criterion": hostile}],
    }
    case = case_create(agent=agent, data=data, actor=None)
    for url in (list_url(agent), detail_url(case), update_url(case)):
        assert_shown_as_text(tester_client.get(url).content.decode(), hostile)


# ---------------------------------------------------------------- helpers


def _posted_fields(html: str) -> dict[str, Any]:
    """What a browser would post from the editor page: every input, select and textarea of the case editor."""
    from html.parser import HTMLParser

    fields: dict[str, list[str]] = {}

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.select: str | None = None
            self.textarea: str | None = None
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            name = attributes.get("name") or ""
            if tag == "input" and name and attributes.get("type") not in ("radio", "checkbox", "submit"):
                fields.setdefault(name, []).append(attributes.get("value") or "")
            elif tag == "input" and attributes.get("type") == "radio" and "checked" in attributes:
                fields.setdefault(name, []).append(attributes.get("value") or "")
            elif tag == "select" and name:
                self.select = name
                fields.setdefault(name, [])
            elif tag == "option" and self.select and "selected" in attributes:
                fields[self.select].append(attributes.get("value") or "")
            elif tag == "textarea" and name:
                self.textarea, self.text = name, ""

        def handle_data(self, data: str) -> None:
            if self.textarea:
                self.text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "textarea" and self.textarea:
                fields.setdefault(self.textarea, []).append(self.text.removeprefix("\n"))
                self.textarea = None

    Reader().feed(html)
    fields.pop("csrfmiddlewaretoken", None)
    fields.pop("yaml", None)
    return {name: values if len(values) != 1 else values[0] for name, values in fields.items()}
