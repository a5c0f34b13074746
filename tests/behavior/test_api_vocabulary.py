"""The glossary, context variable (with values) and canned response endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from behavior.models import CannedResponse, ContextVariable, ContextVariableValue, GlossaryTerm
from tests.api_helpers import api_client, assert_error
from tests.factories import make_customer, make_guideline, make_journey, make_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Any:
    return api_client("editor")


# ---------------------------------------------------------------------------------------------- glossary


def test_glossary_terms_are_stored_and_unique_regardless_of_case(editor: Any, agent: Agent) -> None:
    created = editor.post(
        "/glossary",
        {
            "agent": agent.pk,
            "name": "PNR",
            "synonyms": ["booking reference"],
            "description": "Six letters",
            "tags": ["air"],
        },
    )
    assert created.status_code == 201
    assert created.json()["tags"] == ["air"]

    body = assert_error(editor.post("/glossary", {"agent": agent.pk, "name": "pnr", "description": "Again"}), 409)
    assert body["details"][0]["path"] == "name"
    assert GlossaryTerm.objects.filter(agent=agent).count() == 1


def test_a_glossary_term_needs_a_description_and_distinct_synonyms(editor: Any, agent: Agent) -> None:
    missing = assert_error(editor.post("/glossary", {"agent": agent.pk, "name": "PNR"}), 422)
    assert missing["details"][0]["path"] == "description"
    body = assert_error(
        editor.post("/glossary", {"agent": agent.pk, "name": "PNR", "description": "x", "synonyms": ["Code", "code"]}),
        422,
    )
    assert body["details"][0]["path"] == "synonyms[1]"


def test_the_glossary_list_filters_by_agent_tag_and_name(editor: Any, agent: Agent, other_agent: Agent) -> None:
    for owner, name, tags in ((agent, "PNR", ["air"]), (agent, "Layover", []), (other_agent, "SKU", [])):
        editor.post("/glossary", {"agent": owner.pk, "name": name, "description": "d", "tags": tags})
    assert [item["name"] for item in editor.get("/glossary", agent=agent.pk).json()["items"]] == ["Layover", "PNR"]
    assert [item["name"] for item in editor.get("/glossary", tag="air").json()["items"]] == ["PNR"]
    assert [item["name"] for item in editor.get("/glossary", q="sk").json()["items"]] == ["SKU"]


# ------------------------------------------------------------------------------------- context variables


def test_a_variable_fed_by_a_tool_has_a_freshness_and_a_plain_one_does_not(
    editor: Any, agent: Agent, other_agent: Agent
) -> None:
    tool = make_tool(agent, "tier_lookup")
    created = editor.post(
        "/context-variables", {"agent": agent.pk, "name": "tier", "tool": tool.pk, "freshness_seconds": 300}
    )
    assert created.status_code == 201
    assert (created.json()["tool"], created.json()["freshness_seconds"]) == (tool.pk, 300)

    body = assert_error(
        editor.post("/context-variables", {"agent": agent.pk, "name": "plain", "freshness_seconds": 60}), 422
    )
    assert body["details"][0]["path"] == "freshness_seconds"
    foreign = make_tool(other_agent, "foreign")
    body = assert_error(editor.post("/context-variables", {"agent": agent.pk, "name": "x", "tool": foreign.pk}), 422)
    assert body["details"][0]["path"] == "tool"
    assert_error(editor.post("/context-variables", {"agent": agent.pk, "name": "tier"}), 409, "conflict")
    assert list(ContextVariable.objects.values_list("name", flat=True)) == ["tier"]


def test_values_are_set_per_default_customer_tag_and_customer(editor: Any, agent: Agent) -> None:
    variable = ContextVariable.objects.create(agent=agent, name="tier")
    customer = make_customer("Grace")
    base = f"/context-variables/{variable.pk}/values"

    default = editor.post(base, {"value": "standard"})
    tagged = editor.post(base, {"scope": "customer_tag", "tag": "vip", "value": "gold"})
    personal = editor.post(base, {"scope": "customer", "customer": customer.pk, "value": {"level": 3}})

    assert (default.status_code, tagged.status_code, personal.status_code) == (201, 201, 201)
    assert tagged.json()["tag"] == "vip"
    assert personal.json()["customer"] == customer.pk
    values = {(value.scope, value.tag_id, value.customer_id): value.value for value in variable.values.all()}
    assert values[("customer", None, customer.pk)] == {"level": 3}
    assert editor.get(base).json()["count"] == 3

    changed = editor.patch(f"{base}/{default.json()['id']}", {"value": "silver"})
    assert changed.json()["value"] == "silver"


def test_a_second_default_value_is_a_409(editor: Any, agent: Agent) -> None:
    variable = ContextVariable.objects.create(agent=agent, name="tier")
    editor.post(f"/context-variables/{variable.pk}/values", {"value": "standard"})
    assert_error(editor.post(f"/context-variables/{variable.pk}/values", {"value": "again"}), 409, "conflict")
    assert variable.values.count() == 1


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"scope": "customer_tag", "value": 1}, "tag"),
        ({"scope": "customer", "customer": 424242, "value": 1}, "customer"),
        ({"scope": "default", "tag": "vip", "value": 1}, "scope"),
        ({"scope": "customer_tag", "tag": "x", "value": "y" * 20_000}, "value"),
        ({"scope": "planet", "value": 1}, "scope"),
    ],
)
def test_a_value_with_a_bad_key_or_size_is_refused(
    editor: Any, agent: Agent, payload: dict[str, Any], path: str
) -> None:
    variable = ContextVariable.objects.create(agent=agent, name="tier")
    body = assert_error(editor.post(f"/context-variables/{variable.pk}/values", payload), 422)
    assert body["details"][0]["path"] == path
    assert not variable.values.exists()


def test_a_value_of_another_variable_is_404(editor: Any, agent: Agent) -> None:
    first = ContextVariable.objects.create(agent=agent, name="first")
    second = ContextVariable.objects.create(agent=agent, name="second")
    value = ContextVariableValue.objects.create(variable=second, value=1)
    assert_error(editor.get(f"/context-variables/{first.pk}/values/{value.pk}"), 404)
    assert_error(editor.delete(f"/context-variables/{first.pk}/values/{value.pk}"), 404)
    assert ContextVariableValue.objects.filter(pk=value.pk).exists()


# ------------------------------------------------------------------------------------- canned responses


def test_a_canned_response_is_stored_with_its_fields_and_attachments(editor: Any, agent: Agent) -> None:
    guideline = make_guideline(agent, "status")
    state = make_journey(agent, "check").states.first()
    ContextVariable.objects.create(agent=agent, name="tier")

    response = editor.post(
        "/canned-responses",
        {
            "agent": agent.pk,
            "key": "status",
            "template": "Hi {{ customer.name }}, your {{ tier }} booking is {{ status }}.",
            "fields": [{"name": "status", "kind": "tool"}, {"name": "tier", "kind": "variable"}],
            "signals": ["where is my booking"],
            "guidelines": [guideline.pk],
            "journey_states": [state.pk],
            "tags": ["air"],
        },
    )

    assert response.status_code == 201
    canned = CannedResponse.objects.get(key="status")
    assert canned.field_names == ["status", "tier"]
    assert list(canned.guidelines.all()) == [guideline]
    assert list(canned.journey_states.all()) == [state]


@pytest.mark.parametrize(
    ("payload", "path", "fragment"),
    [
        ({"template": "Your booking is {{ status }}."}, "template", "{{ status }}"),
        ({"template": "Hi {{ customer.name }", "fields": []}, "template", "Unclosed"),
        ({"template": "x", "fields": [{"name": "tier", "kind": "variable"}]}, "fields[0].name", "tier"),
        ({"template": "x", "fields": [{"name": "customer.name", "kind": "tool"}]}, "fields", "built in"),
        ({"template": "x", "fields": [{"name": "a", "kind": "magic"}]}, "fields[0].kind", "tool"),
    ],
)
def test_an_invalid_template_or_field_is_refused_and_named(
    editor: Any, agent: Agent, payload: dict[str, Any], path: str, fragment: str
) -> None:
    body = assert_error(editor.post("/canned-responses", {"agent": agent.pk, "key": "bad", **payload}), 422)
    assert body["details"][0]["path"] == path
    assert fragment in body["message"]
    assert not CannedResponse.objects.exists()


def test_canned_attachments_must_belong_to_the_agent(editor: Any, agent: Agent, other_agent: Agent) -> None:
    foreign_state = make_journey(other_agent, "foreign").states.first()
    body = assert_error(
        editor.post(
            "/canned-responses", {"agent": agent.pk, "key": "x", "template": "Hi", "journey_states": [foreign_state.pk]}
        ),
        422,
    )
    assert body["details"][0]["path"] == "journey_states[0]"


def test_a_duplicate_canned_key_is_a_409_and_patch_keeps_other_fields(editor: Any, agent: Agent) -> None:
    created = editor.post(
        "/canned-responses", {"agent": agent.pk, "key": "hello", "template": "Hello!", "signals": ["hi"]}
    ).json()
    assert_error(editor.post("/canned-responses", {"agent": agent.pk, "key": "hello", "template": "Hey"}), 409)

    response = editor.patch(f"/canned-responses/{created['id']}", {"template": "Hello {{ agent.name }}!"})

    assert response.status_code == 200
    assert response.json()["signals"] == ["hi"]
    assert CannedResponse.objects.get(pk=created["id"]).template == "Hello {{ agent.name }}!"
    assert editor.get("/canned-responses", q="hello").json()["count"] == 1
