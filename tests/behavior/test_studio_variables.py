"""The studio's context variable pages: list, inline create, detail with its values, edit, delete, and adding,
changing and removing values inline."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from behavior.models import ContextVariable, ContextVariableValue
from behavior.services.audit import SYSTEM
from behavior.services.variables import (
    context_value_create,
    context_value_update,
    context_variable_create,
    context_variable_update,
)
from tests.factories import make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lint_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The linter is another family's work: here it says one thing about the variable a page asks about."""
    monkeypatch.setattr(
        "behavior.views.variables.entity_lint",
        lambda agent, *, entity, ref: [
            {"severity": "warning", "message": f"Lint says {entity} {ref} is unused", "path": ""}
        ],
    )


def make_variable(agent: Any, name: str = "loyalty_tier", **data: Any) -> ContextVariable:
    return context_variable_create(agent=agent, data={"name": name, "description": "The tier", **data}, actor=SYSTEM)


def make_value(variable: ContextVariable, value: Any = "standard", tag: str | None = None) -> ContextVariableValue:
    data: dict[str, Any] = (
        {"scope": "customer_tag", "tag": tag, "value": value} if tag else {"scope": "default", "value": value}
    )
    return context_value_create(variable, data=data, actor=SYSTEM)


def variable_post(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "seat_preference",
        "description": "Aisle or window",
        "tool": "",
        "freshness_seconds": "",
        "tags": "",
        **overrides,
    }


def block(html: str, field: str) -> str:
    return html.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]


def test_the_list_shows_the_agents_variables_and_where_their_values_come_from(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    make_variable(agent)
    tool = make_tool(agent, "travel_alerts")
    make_variable(agent, "travel_alerts", tool=tool.pk, freshness_seconds=900)
    make_variable(other_agent, "elsewhere")
    response = editor_client.get(reverse("studio:variable-list", args=[agent.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "loyalty_tier" in html and "fresh for 900 s" in html and "elsewhere" not in html


def test_the_list_fragment_searches_and_an_empty_list_invites_the_first_variable(
    editor_client: Any, agent: Any
) -> None:
    url = reverse("studio:variable-list", args=[agent.pk])
    assert "No context variables yet" in editor_client.get(url).content.decode()
    make_variable(agent)
    make_variable(agent, "seat_preference", description="Aisle or window")
    html = editor_client.get(url, {"q": "window"}, **HX).content.decode()
    assert "<html" not in html and "seat_preference" in html and "loyalty_tier" not in html
    assert editor_client.get(url, {"q": "q" * 999}, **HX).status_code == 200


def test_the_list_is_paginated(editor_client: Any, agent: Any) -> None:
    for index in range(51):
        make_variable(agent, f"var_{index:02d}")
    url = reverse("studio:variable-list", args=[agent.pk])
    assert "var_50" not in editor_client.get(url, **HX).content.decode()
    assert "var_50" in editor_client.get(url, {"page": 2}, **HX).content.decode()


def test_an_editor_adds_a_tool_fed_variable_inline(editor_client: Any, agent: Any) -> None:
    tool = make_tool(agent, "travel_alerts")
    data = variable_post(name="travel_alerts", tool=tool.pk, freshness_seconds=900, tags="ops")
    response = editor_client.post(reverse("studio:variable-create", args=[agent.pk]), data, **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "variables-changed" in response["HX-Trigger"]
    variable = ContextVariable.objects.get(agent=agent, name="travel_alerts")
    assert (
        variable.tool == tool and variable.freshness_seconds == 900 and [t.name for t in variable.tags.all()] == ["ops"]
    )


def test_without_javascript_adding_a_variable_redirects_to_it(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:variable-create", args=[agent.pk]), variable_post())
    variable = ContextVariable.objects.get(agent=agent, name="seat_preference")
    assert response.status_code == 302 and response["Location"] == reverse(
        "studio:variable-detail", args=[agent.pk, variable.pk]
    )
    assert "<html" in editor_client.get(reverse("studio:variable-create", args=[agent.pk])).content.decode()


def test_freshness_without_a_tool_is_refused_beside_the_freshness(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(
        reverse("studio:variable-create", args=[agent.pk]), variable_post(freshness_seconds=60), **HX
    )
    assert response.status_code == 422
    assert "only applies to a variable fed by a tool" in block(response.content.decode(), "freshness_seconds")


def test_a_tool_of_another_agent_cannot_be_chosen(editor_client: Any, agent: Any, other_agent: Any) -> None:
    foreign = make_tool(other_agent, "foreign_tool")
    response = editor_client.post(reverse("studio:variable-create", args=[agent.pk]), variable_post(tool=foreign.pk))
    assert response.status_code == 422 and "Select a valid choice" in block(response.content.decode(), "tool")


def test_a_bad_name_is_refused_beside_the_name(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:variable-create", args=[agent.pk]), variable_post(name="Not A Name"))
    assert response.status_code == 422 and "lowercase letters" in block(response.content.decode(), "name")


def test_the_variable_page_shows_its_values_lint_and_history(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    make_value(variable, "standard")
    make_value(variable, "gold", tag="vip")
    html = editor_client.get(reverse("studio:variable-detail", args=[agent.pk, variable.pk])).content.decode()
    assert "Lint says context_variable loyalty_tier is unused" in html
    assert "Default" in html and "Customers tagged" in html and "vip" in html
    assert 'value="gold"' in html and 'value="standard"' in html
    try:
        audit = reverse("studio:audit-list", args=[agent.pk])
    except Exception:  # the history page belongs to another family
        audit = None
    if audit:
        assert f"entity_type=context_variable&amp;entity_id={variable.pk}" in html


def test_an_editor_edits_and_deletes_a_variable(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    url = reverse("studio:variable-update", args=[agent.pk, variable.pk])
    response = editor_client.post(
        url, variable_post(name="loyalty_tier", description="Miles tier", revision=variable.revision), **HX
    )
    assert response.status_code == 200 and "Saved." in response.content.decode()
    variable.refresh_from_db()
    assert variable.description == "Miles tier"
    assert editor_client.post(url, variable_post(name="loyalty_tier", revision=variable.revision)).status_code == 302
    assert editor_client.get(url).status_code == 200
    deleted = editor_client.post(reverse("studio:variable-delete", args=[agent.pk, variable.pk]), **HX)
    assert deleted.status_code == 200 and not ContextVariable.objects.filter(pk=variable.pk).exists()


def test_without_javascript_deleting_a_variable_returns_to_the_list(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    response = editor_client.post(reverse("studio:variable-delete", args=[agent.pk, variable.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("studio:variable-list", args=[agent.pk])


def test_a_stale_variable_edit_is_refused_with_both_versions_shown(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    opened_at = variable.revision
    context_variable_update(variable, data={"description": "Their description"}, actor=SYSTEM)
    response = editor_client.post(
        reverse("studio:variable-update", args=[agent.pk, variable.pk]),
        variable_post(name="loyalty_tier", description="My description", revision=opened_at),
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 409 and "Their description" in html and "My description" in html


def test_an_editor_adds_a_default_and_a_tag_value_inline(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    url = reverse("studio:variable-value-create", args=[agent.pk, variable.pk])
    response = editor_client.post(url, {"scope": "default", "tag": "", "value": "standard"}, **HX)
    html = response.content.decode()
    assert (
        response.status_code == 200
        and "<html" not in html
        and 'id="variable-values"' in html
        and "Value added." in html
    )
    editor_client.post(url, {"scope": "customer_tag", "tag": "vip", "value": '{"tier": "gold"}'}, **HX)
    values = {value.scope: value for value in ContextVariableValue.objects.filter(variable=variable)}
    assert values["default"].value == "standard" and values["customer_tag"].value == {"tier": "gold"}
    assert values["customer_tag"].tag.name == "vip"


def test_a_tag_value_without_a_tag_is_refused_beside_the_tag(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    url = reverse("studio:variable-value-create", args=[agent.pk, variable.pk])
    response = editor_client.post(url, {"scope": "customer_tag", "tag": "", "value": "gold"}, **HX)
    assert response.status_code == 422 and "Name the customer tag" in block(response.content.decode(), "tag")
    plain = editor_client.post(url, {"scope": "customer_tag", "tag": "", "value": "gold"})
    assert plain.status_code == 422 and "<html" in plain.content.decode()


def test_a_second_default_is_a_conflict(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    make_value(variable, "standard")
    response = editor_client.post(
        reverse("studio:variable-value-create", args=[agent.pk, variable.pk]), {"scope": "default", "value": "x"}, **HX
    )
    assert response.status_code == 409 and "already has this default value" in response.content.decode()


def test_without_javascript_adding_a_value_returns_to_the_variable(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    url = reverse("studio:variable-value-create", args=[agent.pk, variable.pk])
    response = editor_client.post(url, {"scope": "default", "value": "42"})
    assert response.status_code == 302 and ContextVariableValue.objects.get(variable=variable).value == 42
    assert "<html" in editor_client.get(url).content.decode()


def test_an_editor_changes_a_value_inline_and_gets_its_row_back(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    value = make_value(variable, "standard")
    url = reverse("studio:variable-value-update", args=[agent.pk, variable.pk, value.pk])
    response = editor_client.post(url, {"value": "silver", "revision": value.revision}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and html.strip().startswith(f'<tr id="value-{value.pk}"') and "Saved." in html
    value.refresh_from_db()
    assert value.value == "silver"
    assert editor_client.post(url, {"value": "gold", "revision": value.revision}).status_code == 302
    assert "<html" in editor_client.get(url).content.decode()


def test_a_stale_value_edit_is_refused_with_both_versions_in_the_row(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    value = make_value(variable, "standard")
    opened_at = value.revision
    context_value_update(value, data={"value": "theirs"}, actor=SYSTEM)
    url = reverse("studio:variable-value-update", args=[agent.pk, variable.pk, value.pk])
    response = editor_client.post(url, {"value": "mine", "revision": opened_at}, **HX)
    html = response.content.decode()
    assert response.status_code == 409 and "theirs" in html and "mine" in html and "since you opened it" in html


def test_an_empty_value_is_refused_beside_the_value(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    value = make_value(variable)
    url = reverse("studio:variable-value-update", args=[agent.pk, variable.pk, value.pk])
    response = editor_client.post(url, {"value": "", "revision": value.revision}, **HX)
    assert response.status_code == 422 and "This field is required." in block(
        response.content.decode(), f"value-{value.pk}"
    )


def test_an_editor_removes_a_value(editor_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    first, second = make_value(variable), make_value(variable, "gold", tag="vip")
    response = editor_client.post(reverse("studio:variable-value-delete", args=[agent.pk, variable.pk, first.pk]), **HX)
    assert response.status_code == 200 and 'id="variable-values"' in response.content.decode()
    plain = editor_client.post(reverse("studio:variable-value-delete", args=[agent.pk, variable.pk, second.pk]))
    assert plain.status_code == 302 and not ContextVariableValue.objects.filter(variable=variable).exists()


def test_a_tester_reads_variables_but_cannot_change_them_or_their_values(tester_client: Any, agent: Any) -> None:
    variable = make_variable(agent)
    value = make_value(variable, "standard")
    assert tester_client.get(reverse("studio:variable-list", args=[agent.pk])).status_code == 200
    detail = tester_client.get(reverse("studio:variable-detail", args=[agent.pk, variable.pk]))
    assert (
        detail.status_code == 200
        and "standard" in detail.content.decode()
        and "Add a value" not in detail.content.decode()
    )
    for url in (
        reverse("studio:variable-create", args=[agent.pk]),
        reverse("studio:variable-update", args=[agent.pk, variable.pk]),
        reverse("studio:variable-delete", args=[agent.pk, variable.pk]),
        reverse("studio:variable-value-create", args=[agent.pk, variable.pk]),
        reverse("studio:variable-value-update", args=[agent.pk, variable.pk, value.pk]),
        reverse("studio:variable-value-delete", args=[agent.pk, variable.pk, value.pk]),
    ):
        assert tester_client.post(url, {"value": "x", "scope": "default", "name": "x"}).status_code == 403
    assert ContextVariableValue.objects.get(pk=value.pk).value == "standard"


def test_an_outsider_may_not_open_variables_and_an_anonymous_visitor_logs_in(
    outsider_client: Any, client_for: Any, agent: Any
) -> None:
    variable = make_variable(agent)
    for url in (
        reverse("studio:variable-list", args=[agent.pk]),
        reverse("studio:variable-detail", args=[agent.pk, variable.pk]),
    ):
        refused = outsider_client.get(url)
        assert refused.status_code == 403 and "You may not open" in refused.content.decode()
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_variable_or_value_of_another_agent_is_not_found_here(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    foreign = make_variable(other_agent)
    foreign_value = make_value(foreign)
    own = make_variable(agent)
    assert editor_client.get(reverse("studio:variable-detail", args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.post(reverse("studio:variable-delete", args=[agent.pk, foreign.pk])).status_code == 404
    value_urls = (
        reverse("studio:variable-value-update", args=[agent.pk, own.pk, foreign_value.pk]),
        reverse("studio:variable-value-delete", args=[agent.pk, own.pk, foreign_value.pk]),
        reverse("studio:variable-value-update", args=[agent.pk, foreign.pk, foreign_value.pk]),
    )
    for url in value_urls:
        assert editor_client.post(url, {"value": "x", "revision": 1}).status_code == 404
    assert ContextVariableValue.objects.get(pk=foreign_value.pk).value == "standard"


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_descriptions_and_values_are_shown_as_text(
    editor_client: Any, tester_client: Any, agent: Any, hostile: str
) -> None:
    variable = make_variable(agent, description=hostile)
    make_value(variable, hostile + " value")
    for client in (editor_client, tester_client):
        assert_shown_as_text(client.get(reverse("studio:variable-list", args=[agent.pk])).content.decode(), hostile)
        html = client.get(reverse("studio:variable-detail", args=[agent.pk, variable.pk])).content.decode()
        assert_shown_as_text(html, hostile)
        assert_shown_as_text(html, hostile + " value")
