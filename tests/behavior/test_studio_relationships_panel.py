"""The relationships panel of a guideline's page: incoming and outgoing lists, adding one by kind, direction
and a typed target (guideline, tag, journey, tool), removing one, and the typeahead of targets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from behavior.models import Guideline, Relationship
from behavior.services.audit import SYSTEM
from behavior.services.relationships import relationship_create
from tests.factories import make_guideline, make_journey, make_tag, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


def detail_url(guideline: Guideline) -> str:
    return reverse("studio:guideline-detail", args=[guideline.agent_id, guideline.pk])


def create_url(agent: Agent) -> str:
    return reverse("studio:relationship-create", args=[agent.pk])


def targets_url(agent: Agent) -> str:
    return reverse("studio:relationship-targets", args=[agent.pk])


def link(agent: Agent, kind: str, source: Any, target: Any) -> Relationship:
    def end(row: Any) -> dict[str, Any]:
        kind_of = {"Guideline": "guideline", "Tag": "tag", "Journey": "journey", "Tool": "tool"}[type(row).__name__]
        return {"type": kind_of, "id": row.pk}

    return relationship_create(
        agent=agent, data={"kind": kind, "source": end(source), "target": end(target)}, actor=SYSTEM
    )


def add_data(guideline: Guideline, **overrides: Any) -> dict[str, Any]:
    data = {
        "guideline": guideline.pk,
        "direction": "outgoing",
        "kind": "overrides",
        "other_type": "guideline",
        "other": "",
    }
    data.update(overrides)
    return data


def test_the_panel_lists_outgoing_incoming_and_tag_level_relationships(editor_client: Client, agent: Agent) -> None:
    vip = make_tag("vip")
    guideline = make_guideline(agent, "lost-bag", tags=[vip])
    other = make_guideline(agent, "refund-policy")
    third = make_guideline(agent, "greeting")
    link(agent, "overrides", guideline, other)
    link(agent, "entails", third, guideline)
    link(agent, "overrides", third, vip)
    html = editor_client.get(detail_url(guideline)).content.decode()
    outgoing = html[html.index("Outgoing") : html.index("Incoming")]
    incoming = html[html.index("Incoming") : html.index("Through its tags")]
    assert "refund-policy" in outgoing and "Overrides" in outgoing
    assert "greeting" in incoming and "Entails" in incoming
    assert "vip" in html[html.index("Through its tags") :]
    assert detail_url(other) in outgoing


def test_an_editor_adds_an_outgoing_relationship_by_typing_the_targets_key(editor_client: Client, agent: Agent) -> None:
    guideline, other = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    response = editor_client.post(create_url(agent), add_data(guideline, other="refund-policy"))
    assert (
        response.status_code == 302 and response["Location"] == f"{detail_url(guideline)}#relationships-{guideline.pk}"
    )
    relationship = Relationship.objects.get(agent=agent)
    assert (relationship.kind, relationship.source_guideline, relationship.target_guideline) == (
        "overrides",
        guideline,
        other,
    )


@pytest.mark.parametrize("other_type", ["tag", "journey", "tool"])
def test_an_editor_adds_relationships_to_tags_journeys_and_tools(
    editor_client: Client, agent: Agent, other_type: str
) -> None:
    guideline = make_guideline(agent, "lost-bag")
    kind, name, incoming = {
        "tag": ("overrides", "vip", False),
        "journey": ("depends_on", "refund-flow", False),
        "tool": ("reevaluate_after", "find_booking", False),
    }[other_type]
    make_tag("vip"), make_journey(agent, "refund-flow"), make_tool(agent, "find_booking")
    data = add_data(guideline, kind=kind, other_type=other_type, other=name)
    response = editor_client.post(create_url(agent), data, **HX)
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "<html" not in html and f'id="relationships-{guideline.pk}"' in html and name in html
    relationship = Relationship.objects.get(agent=agent)
    assert relationship.target_type == other_type and relationship.source_guideline == guideline and not incoming


def test_an_incoming_relationship_puts_the_guideline_at_the_target_end(editor_client: Client, agent: Agent) -> None:
    guideline, other = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    editor_client.post(
        create_url(agent), add_data(guideline, direction="incoming", kind="entails", other="refund-policy")
    )
    relationship = Relationship.objects.get(agent=agent)
    assert relationship.source_guideline == other and relationship.target_guideline == guideline


def test_an_unknown_target_is_refused_beside_the_target_field(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    response = editor_client.post(create_url(agent), add_data(guideline, other="no-such-key"), **HX)
    html = response.content.decode()
    assert response.status_code == 422
    block = html[html.index('id="field-other"') :]
    assert "No guideline of this agent is called" in block[: block.index("</div>")]
    assert not Relationship.objects.exists()


def test_a_kind_that_does_not_fit_the_ends_is_refused_beside_the_kind(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    make_tool(agent, "find_booking")
    response = editor_client.post(
        create_url(agent), add_data(guideline, kind="entails", other_type="tool", other="find_booking")
    )
    html = response.content.decode()
    assert response.status_code == 422 and "<html" in html  # the whole page without htmx
    block = html[html.index('id="field-kind"') :]
    assert "needs a" in block[: block.index("</div>")]


def test_a_self_loop_and_a_cycle_are_refused(editor_client: Client, agent: Agent) -> None:
    guideline, other = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    assert editor_client.post(create_url(agent), add_data(guideline, other="lost-bag"), **HX).status_code == 422
    link(agent, "overrides", other, guideline)
    response = editor_client.post(create_url(agent), add_data(guideline, other="refund-policy"), **HX)
    assert response.status_code == 422 and "cycle" in response.content.decode().lower()
    assert Relationship.objects.count() == 1


def test_a_guideline_of_another_agent_cannot_be_a_target_or_own_the_panel(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    guideline = make_guideline(agent, "lost-bag")
    foreign = make_guideline(other_agent, "foreign")
    refused = editor_client.post(create_url(agent), add_data(guideline, other="foreign"), **HX)
    assert refused.status_code == 422
    assert editor_client.post(create_url(agent), add_data(foreign, other="lost-bag")).status_code == 404
    assert editor_client.post(create_url(agent), {"guideline": "x"}).status_code == 404
    assert not Relationship.objects.exists()


def test_an_editor_removes_a_relationship(editor_client: Client, agent: Agent) -> None:
    guideline, other = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    relationship = link(agent, "overrides", guideline, other)
    url = reverse("studio:relationship-delete", args=[agent.pk, relationship.pk])
    html = editor_client.post(url, {"guideline": guideline.pk}, **HX).content.decode()
    assert "<html" not in html and "Nothing starts here." in html
    assert not Relationship.objects.exists()
    again = link(agent, "overrides", guideline, other)
    response = editor_client.post(
        reverse("studio:relationship-delete", args=[agent.pk, again.pk]), {"guideline": guideline.pk}
    )
    assert response.status_code == 302 and response["Location"].startswith(detail_url(guideline))


def test_a_relationship_of_another_agent_is_not_found(editor_client: Client, agent: Agent, other_agent: Agent) -> None:
    first, second = make_guideline(other_agent, "a"), make_guideline(other_agent, "b")
    foreign = link(other_agent, "overrides", first, second)
    assert editor_client.post(reverse("studio:relationship-delete", args=[agent.pk, foreign.pk])).status_code == 404
    assert Relationship.objects.filter(pk=foreign.pk).exists()


def test_a_tester_sees_the_panel_but_cannot_add_or_remove(tester_client: Client, agent: Agent) -> None:
    guideline, other = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    relationship = link(agent, "overrides", guideline, other)
    html = tester_client.get(detail_url(guideline)).content.decode()
    assert "refund-policy" in html and "Add a relationship" not in html and "Remove" not in html
    assert (
        tester_client.post(create_url(agent), add_data(guideline, kind="entails", other="refund-policy")).status_code
        == 403
    )
    delete = reverse("studio:relationship-delete", args=[agent.pk, relationship.pk])
    assert tester_client.post(delete, {"guideline": guideline.pk}).status_code == 403
    assert Relationship.objects.count() == 1


def test_an_outsider_and_an_anonymous_visitor_cannot_use_the_panel(
    outsider_client: Client, client: Client, agent: Agent
) -> None:
    guideline = make_guideline(agent, "lost-bag")
    response = outsider_client.get(targets_url(agent))
    assert response.status_code == 403 and "You may not open" in response.content.decode()
    assert outsider_client.post(create_url(agent), add_data(guideline)).status_code == 403
    anonymous = client.get(targets_url(agent))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


# ---------------------------------------------------------------- the typeahead


def test_the_typeahead_finds_targets_of_the_chosen_type_as_json(
    tester_client: Client, agent: Agent, other_agent: Agent
) -> None:
    make_guideline(agent, "refund-policy", title="Refunds")
    make_guideline(agent, "greeting")
    make_guideline(other_agent, "refund-foreign")
    make_tool(agent, "refund_lookup")
    data = json.loads(tester_client.get(targets_url(agent), {"type": "guideline", "q": "refund"}).content)
    assert [row["ref"] for row in data["results"]] == ["refund-policy"]
    tools = json.loads(tester_client.get(targets_url(agent), {"type": "tool", "q": "refund"}).content)
    assert [row["ref"] for row in tools["results"]] == ["refund_lookup"]


def test_the_typeahead_returns_datalist_options_for_htmx_using_the_forms_field_names(
    editor_client: Client, agent: Agent
) -> None:
    make_journey(agent, "refund-flow", title="Refund flow")
    html = editor_client.get(targets_url(agent), {"other_type": "journey", "other": "refund"}, **HX).content.decode()
    assert "<html" not in html and '<option value="refund-flow">Refund flow</option>' in html


def test_the_typeahead_is_bounded_to_twenty_and_ignores_an_unknown_type(editor_client: Client, agent: Agent) -> None:
    Guideline.objects.bulk_create(
        [Guideline(agent=agent, key=f"g-{number:02d}", condition="The customer asks") for number in range(30)]
    )
    data = json.loads(editor_client.get(targets_url(agent), {"type": "evil", "q": "g-" + "x" * 500}).content)
    assert data["type"] == "guideline" and len(data["q"]) == 200
    data = json.loads(editor_client.get(targets_url(agent), {"q": "g-"}).content)
    assert len(data["results"]) == 20


def test_the_add_form_asks_the_typeahead_with_the_chosen_type(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    html = editor_client.get(detail_url(guideline)).content.decode()
    assert f'hx-get="{targets_url(agent)}"' in html
    assert f'list="rel-{guideline.pk}-targets"' in html and f'<datalist id="rel-{guideline.pk}-targets">' in html


# ---------------------------------------------------------------- hostile texts


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_texts_of_related_guidelines_show_as_text_in_the_panel_and_typeahead(
    editor_client: Client, agent: Agent, text: str
) -> None:
    guideline = make_guideline(agent, "lost-bag")
    other = make_guideline(agent, "hostile", title=text, condition=text, action=text)
    journey = make_journey(agent, "hostile-journey", title=text)
    link(agent, "overrides", guideline, other)
    link(agent, "depends_on", guideline, journey)
    for html in (
        editor_client.get(detail_url(guideline)).content.decode(),
        editor_client.get(detail_url(guideline), **HX).content.decode(),
        editor_client.get(targets_url(agent), {"type": "guideline", "q": "hostile"}, **HX).content.decode(),
    ):
        assert_shown_as_text(html, text)
    data = editor_client.get(targets_url(agent), {"type": "journey", "q": "hostile"})
    assert data["Content-Type"] == "application/json" and json.loads(data.content)["results"][0]["label"] == text
