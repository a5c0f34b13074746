"""The agent-wide relationships page: every relationship of the agent with its ends linked, filters by kind and
endpoint type, search by an end's key or name, pages of 50, adding one between any two ends (tools, tags,
journeys too), deleting, who may do what, and a tool's relationships on its page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent, Tool
from behavior.models import Guideline, Relationship
from behavior.services.audit import SYSTEM
from behavior.services.relationships import relationship_create
from tests.factories import make_guideline, make_journey, make_tag, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


def list_url(agent: Agent) -> str:
    return reverse("studio:relationship-list", args=[agent.pk])


def create_url(agent: Agent) -> str:
    return reverse("studio:relationship-create", args=[agent.pk])


def delete_url(relationship: Relationship) -> str:
    return reverse("studio:relationship-delete", args=[relationship.agent_id, relationship.pk])


def link(agent: Agent, kind: str, source: Any, target: Any) -> Relationship:
    def end(row: Any) -> dict[str, Any]:
        kind_of = {"Guideline": "guideline", "Tag": "tag", "Journey": "journey", "Tool": "tool"}[type(row).__name__]
        return {"type": kind_of, "id": row.pk}

    return relationship_create(
        agent=agent, data={"kind": kind, "source": end(source), "target": end(target)}, actor=SYSTEM
    )


def new_data(**overrides: Any) -> dict[str, Any]:
    data = {"source_type": "guideline", "source": "", "kind": "overrides", "target_type": "guideline", "target": ""}
    data.update(overrides)
    return data


def field_block(html: str, name: str) -> str:
    """The `_field.html` block of one field (its label, input and messages)."""
    start = html.index(f'id="field-{name}"')
    return html[start : html.index("</div>", start)]


def two_tools(agent: Agent) -> tuple[Tool, Tool]:
    return make_tool(agent, "flight_status"), make_tool(agent, "lookup_booking")


# ---------------------------------------------------------------- the list


def test_the_list_shows_every_relationship_with_each_end_linked_to_its_page(
    editor_client: Client, agent: Agent
) -> None:
    lost_bag, refund = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    journey = make_journey(agent, "rebooking", title="Rebooking")
    vip = make_tag("vip")
    flight_status, lookup_booking = two_tools(agent)
    link(agent, "overrides", lost_bag, refund)
    link(agent, "depends_on", vip, journey)
    link(agent, "tools_overlap", flight_status, lookup_booking)
    link(agent, "reevaluate_after", refund, flight_status)
    response = editor_client.get(list_url(agent))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "4 relationships" in html
    for url in (
        reverse("studio:guideline-detail", args=[agent.pk, lost_bag.pk]),
        reverse("studio:guideline-detail", args=[agent.pk, refund.pk]),
        reverse("studio:journey-detail", args=[agent.pk, journey.pk]),
        reverse("studio:tool-detail", args=[agent.pk, flight_status.pk]),
        reverse("studio:tool-detail", args=[agent.pk, lookup_booking.pk]),
        reverse("studio:tag-list", args=[agent.pk]),
    ):
        assert f'href="{url}' in html
    assert "Tools Overlap" in html and "Reevaluate After" in html


def test_the_list_of_an_agent_without_relationships_invites_the_first(editor_client: Client, agent: Agent) -> None:
    html = editor_client.get(list_url(agent)).content.decode()
    assert "No relationships yet." in html and "Add the first relationship" in html


def test_an_htmx_request_gets_only_the_results(tester_client: Client, agent: Agent) -> None:
    link(agent, "overrides", make_guideline(agent, "a"), make_guideline(agent, "b"))
    html = tester_client.get(list_url(agent), **HX).content.decode()
    assert "<html" not in html and 'id="relationship-results"' in html and "1 relationship" in html


def test_the_list_filters_by_kind_and_endpoint_type_and_searches_ends(editor_client: Client, agent: Agent) -> None:
    lost_bag, refund = make_guideline(agent, "lost-bag"), make_guideline(agent, "refund-policy")
    flight_status, lookup_booking = two_tools(agent)
    journey = make_journey(agent, "rebooking")
    overrides = link(agent, "overrides", lost_bag, refund)
    overlap = link(agent, "tools_overlap", flight_status, lookup_booking)
    depends = link(agent, "depends_on", lost_bag, journey)

    def shown(**params: str) -> set[int]:
        html = editor_client.get(list_url(agent), params, **HX).content.decode()
        return {row.pk for row in (overrides, overlap, depends) if f'id="relationship-{row.pk}"' in html}

    assert shown(kind="tools_overlap") == {overlap.pk}
    assert shown(type="journey") == {depends.pk}
    assert shown(type="tool") == {overlap.pk}
    assert shown(q="REFUND") == {overrides.pk}
    assert shown(q="booking") == {overlap.pk, depends.pk}  # lookup_booking and rebooking
    assert shown(kind="evil", type="nonsense") == {overrides.pk, overlap.pk, depends.pk}
    assert (
        "No relationship matches “nothing-here”"
        in editor_client.get(list_url(agent), {"q": "nothing-here"}).content.decode()
    )


def test_a_long_search_is_cut_to_two_hundred_characters(editor_client: Client, agent: Agent) -> None:
    response = editor_client.get(list_url(agent), {"q": "x" * 5000})
    assert response.status_code == 200 and "x" * 201 not in response.content.decode()


def test_the_list_pages_by_fifty_keeping_the_filters(editor_client: Client, agent: Agent) -> None:
    Guideline.objects.bulk_create(
        [Guideline(agent=agent, key=f"g-{number:02d}", condition="The customer asks") for number in range(61)]
    )
    hub = Guideline.objects.get(key="g-00")
    for guideline in Guideline.objects.exclude(pk=hub.pk):
        link(agent, "entails", hub, guideline)
    html = editor_client.get(list_url(agent), {"kind": "entails"}).content.decode()
    assert html.count('<tr id="relationship-') == 50
    assert "Page 1 of 2" in html and "?kind=entails&amp;page=2" in html
    second = editor_client.get(list_url(agent), {"kind": "entails", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second and "g-60" in second


# ---------------------------------------------------------------- adding


def test_an_editor_adds_a_tools_overlap_between_two_tools_and_deletes_it_again(
    editor_client: Client, agent: Agent
) -> None:
    flight_status, lookup_booking = two_tools(agent)
    data = new_data(
        source_type="tool", source="flight_status", kind="tools_overlap", target_type="tool", target="lookup_booking"
    )
    response = editor_client.post(create_url(agent), data)
    assert response.status_code == 302 and response["Location"] == list_url(agent)
    relationship = Relationship.objects.get(agent=agent)
    assert (relationship.kind, relationship.source_tool, relationship.target_tool) == (
        "tools_overlap",
        flight_status,
        lookup_booking,
    )
    html = editor_client.get(response["Location"]).content.decode()
    assert f'id="relationship-{relationship.pk}"' in html and "tool:flight_status tools_overlap" in html
    deleted = editor_client.post(delete_url(relationship), {"back": "kind=tools_overlap&page=1"})
    assert deleted.status_code == 302 and deleted["Location"] == f"{list_url(agent)}?kind=tools_overlap&page=1"
    assert not Relationship.objects.exists()


def test_adding_with_htmx_returns_a_fresh_form_and_tells_the_results_to_reload(
    editor_client: Client, agent: Agent
) -> None:
    make_guideline(agent, "lost-bag")
    make_tag("vip")
    response = editor_client.post(
        create_url(agent), new_data(source="lost-bag", kind="overrides", target_type="tag", target="vip"), **HX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="relationship-form"' in html
    assert "Added: guideline:lost-bag overrides tag:vip." in html and response["HX-Trigger"] == "relationships-changed"
    assert Relationship.objects.get().target_type == "tag"


def test_an_editor_adds_a_relationship_from_a_tag_to_a_journey(editor_client: Client, agent: Agent) -> None:
    make_tag("vip")
    journey = make_journey(agent, "rebooking")
    data = new_data(source_type="tag", source="vip", kind="depends_on", target_type="journey", target="rebooking")
    assert editor_client.post(create_url(agent), data).status_code == 302
    assert Relationship.objects.get().target_journey == journey


def test_unknown_ends_are_refused_beside_their_fields(editor_client: Client, agent: Agent) -> None:
    data = new_data(source_type="tool", source="nope", kind="tools_overlap", target_type="tool", target="missing")
    response = editor_client.post(create_url(agent), data, **HX)
    html = response.content.decode()
    assert response.status_code == 422 and "<html" not in html
    assert "No tool of this agent is called &#x27;nope&#x27;." in field_block(html, "source")
    assert "No tool of this agent is called &#x27;missing&#x27;." in field_block(html, "target")
    assert not Relationship.objects.exists()


def test_a_missing_end_is_refused_beside_its_field_on_the_full_page(editor_client: Client, agent: Agent) -> None:
    response = editor_client.post(create_url(agent), new_data(source="", target=""))
    html = response.content.decode()
    assert response.status_code == 422 and "<html" in html and "Relationships" in html
    assert "This field is required." in field_block(html, "source")
    assert "This field is required." in field_block(html, "target")


def test_a_kind_that_does_not_fit_the_ends_is_refused_beside_the_kind(editor_client: Client, agent: Agent) -> None:
    two_tools(agent)
    data = new_data(
        source_type="tool", source="flight_status", kind="entails", target_type="tool", target="lookup_booking"
    )
    response = editor_client.post(create_url(agent), data)
    html = response.content.decode()
    assert response.status_code == 422 and "needs a guideline as source" in field_block(html, "kind")
    assert not Relationship.objects.exists()


def test_a_self_loop_is_refused_beside_the_target_and_a_duplicate_as_a_conflict(
    editor_client: Client, agent: Agent
) -> None:
    flight_status, lookup_booking = two_tools(agent)
    loop = new_data(
        source_type="tool", source="flight_status", kind="tools_overlap", target_type="tool", target="flight_status"
    )
    response = editor_client.post(create_url(agent), loop, **HX)
    assert response.status_code == 422 and "to itself" in field_block(response.content.decode(), "target")
    link(agent, "tools_overlap", flight_status, lookup_booking)
    again = new_data(
        source_type="tool", source="flight_status", kind="tools_overlap", target_type="tool", target="lookup_booking"
    )
    duplicate = editor_client.post(create_url(agent), again, **HX)
    assert duplicate.status_code == 409 and "already has the relationship" in duplicate.content.decode()
    assert Relationship.objects.count() == 1


def test_the_ends_of_another_agent_cannot_be_named(editor_client: Client, agent: Agent, other_agent: Agent) -> None:
    make_tool(agent, "flight_status")
    make_tool(other_agent, "foreign_tool")
    data = new_data(
        source_type="tool", source="flight_status", kind="tools_overlap", target_type="tool", target="foreign_tool"
    )
    response = editor_client.post(create_url(agent), data)
    assert response.status_code == 422 and "No tool of this agent" in field_block(response.content.decode(), "target")
    assert not Relationship.objects.exists()


def test_the_add_form_asks_the_typeahead_for_each_end_with_its_type(editor_client: Client, agent: Agent) -> None:
    html = editor_client.get(list_url(agent)).content.decode()
    targets = reverse("studio:relationship-targets", args=[agent.pk])
    for side in ("source", "target"):
        assert f'hx-get="{targets}?field={side}"' in html and f'hx-include="#rel-new-{side}_type"' in html
        assert f'list="rel-new-{side}-targets"' in html and f'<datalist id="rel-new-{side}-targets">' in html


def test_the_typeahead_reads_the_source_and_target_fields(editor_client: Client, agent: Agent) -> None:
    two_tools(agent)
    url = reverse("studio:relationship-targets", args=[agent.pk])
    data = json.loads(editor_client.get(url, {"field": "source", "source_type": "tool", "source": "flight"}).content)
    assert [row["ref"] for row in data["results"]] == ["flight_status"]
    html = editor_client.get(url, {"field": "target", "target_type": "tool", "target": "lookup"}, **HX).content.decode()
    assert '<option value="lookup_booking">' in html
    fallback = json.loads(editor_client.get(url, {"field": "evil", "other_type": "tool", "other": "look"}).content)
    assert [row["ref"] for row in fallback["results"]] == ["lookup_booking"]


# ---------------------------------------------------------------- deleting


def test_deleting_with_htmx_returns_the_results_with_the_same_filters(editor_client: Client, agent: Agent) -> None:
    flight_status, lookup_booking = two_tools(agent)
    overlap = link(agent, "tools_overlap", flight_status, lookup_booking)
    other = link(agent, "overrides", make_guideline(agent, "a"), make_guideline(agent, "b"))
    listed = editor_client.get(list_url(agent), {"kind": "overrides"}).content.decode()
    assert 'hx-confirm="Delete the relationship' in listed and 'data-confirm="Delete the relationship' in listed
    response = editor_client.post(delete_url(other), {"back": "kind=overrides"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "No relationship matches" in html
    assert list(Relationship.objects.all()) == [overlap]


# ---------------------------------------------------------------- who may do what


def test_a_tester_reads_relationships_but_cannot_change_them(tester_client: Client, agent: Agent) -> None:
    flight_status, lookup_booking = two_tools(agent)
    relationship = link(agent, "tools_overlap", flight_status, lookup_booking)
    html = tester_client.get(list_url(agent)).content.decode()
    assert "flight_status" in html and "Add a relationship" not in html and "Delete" not in html
    reverse_data = new_data(
        source_type="tool", source="lookup_booking", kind="tools_overlap", target_type="tool", target="flight_status"
    )
    assert tester_client.post(create_url(agent), reverse_data).status_code == 403
    assert tester_client.post(delete_url(relationship)).status_code == 403
    assert Relationship.objects.count() == 1


def test_an_outsider_may_not_open_the_page_and_an_anonymous_visitor_is_sent_to_log_in(
    outsider_client: Client, client: Client, agent: Agent
) -> None:
    response = outsider_client.get(list_url(agent))
    assert response.status_code == 403 and "You may not open" in response.content.decode()
    assert outsider_client.post(create_url(agent), new_data()).status_code == 403
    for anonymous in (client.get(list_url(agent)), client.post(create_url(agent), new_data())):
        assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_a_relationship_of_another_agent_is_not_found_under_this_agent(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    first, second = make_tool(other_agent, "a_tool"), make_tool(other_agent, "b_tool")
    foreign = link(other_agent, "tools_overlap", first, second)
    assert editor_client.post(delete_url(foreign).replace(f"/{other_agent.pk}/", f"/{agent.pk}/")).status_code == 404
    assert editor_client.get(list_url(agent), {"tool": first.pk}).status_code == 404
    assert "a_tool" not in editor_client.get(list_url(agent)).content.decode()
    assert Relationship.objects.filter(pk=foreign.pk).exists()
    assert editor_client.get(reverse("studio:relationship-list", args=[999999])).status_code == 404


# ---------------------------------------------------------------- hostile texts


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_texts_of_the_ends_show_as_text_in_the_table(editor_client: Client, agent: Agent, text: str) -> None:
    hostile = make_guideline(agent, "hostile", title=text, condition=text, action=text)
    untitled = make_guideline(agent, "untitled", condition=text)
    journey = make_journey(agent, "hostile-journey", title=text)
    link(agent, "overrides", hostile, untitled)
    link(agent, "depends_on", untitled, journey)
    for html in (
        editor_client.get(list_url(agent)).content.decode(),
        editor_client.get(list_url(agent), {"q": text}).content.decode(),
    ):
        assert_shown_as_text(html, text)


def test_a_hostile_key_typed_into_the_form_shows_as_text_beside_its_field(editor_client: Client, agent: Agent) -> None:
    for text in HOSTILE_TEXTS:
        html = editor_client.post(create_url(agent), new_data(source=text, target=text)).content.decode()
        assert text not in html and "No guideline of this agent is called" in field_block(html, "source")


# ---------------------------------------------------------------- the tool's page and the way here


def test_a_tools_page_lists_its_relationships_and_links_to_manage_them(tester_client: Client, agent: Agent) -> None:
    flight_status, lookup_booking = two_tools(agent)
    refund = make_guideline(agent, "refund-policy")
    link(agent, "tools_overlap", flight_status, lookup_booking)
    link(agent, "reevaluate_after", refund, flight_status)
    html = tester_client.get(reverse("studio:tool-detail", args=[agent.pk, flight_status.pk])).content.decode()
    section = html[html.index('id="tool-relationships"') :]
    assert "lookup_booking" in section and "refund-policy" in section
    assert f'href="{list_url(agent)}?tool={flight_status.pk}"' in section and "Manage relationships" in section
    empty = tester_client.get(reverse("studio:tool-detail", args=[agent.pk, make_tool(agent, "idle").pk]))
    assert "No relationship names this tool." in empty.content.decode()


def test_the_list_filtered_to_a_tool_shows_only_its_relationships_and_starts_the_form_there(
    editor_client: Client, agent: Agent
) -> None:
    flight_status, lookup_booking = two_tools(agent)
    overlap = link(agent, "tools_overlap", flight_status, lookup_booking)
    other = link(agent, "overrides", make_guideline(agent, "a"), make_guideline(agent, "b"))
    html = editor_client.get(list_url(agent), {"tool": flight_status.pk}).content.decode()
    assert f'id="relationship-{overlap.pk}"' in html and f'id="relationship-{other.pk}"' not in html
    assert "Relationships of tool" in html and 'value="flight_status"' in html


def test_the_side_navigation_and_the_overview_lead_to_the_relationships_page(
    tester_client: Client, agent: Agent
) -> None:
    page = tester_client.get(list_url(agent)).content.decode()
    assert f'<a href="{list_url(agent)}" aria-current="page">Relationships</a>' in page
    overview = tester_client.get(reverse("studio:agent-detail", args=[agent.pk])).content.decode()
    assert f'<a class="stat" href="{list_url(agent)}">' in overview
