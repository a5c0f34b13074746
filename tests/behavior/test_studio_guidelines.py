"""The studio's guideline pages: the list (search, filters, sort, pages, empty and no-match states, a query
count that does not grow), new guideline (inline and full page), the guideline's page, inline editing, the
toggle, deleting and bulk actions, with every role and hostile texts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import Agent
from behavior.models import AuditEntry, Guideline
from tests.factories import make_guideline, make_journey, make_tag, make_tool
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


def list_url(agent: Agent, query: str = "") -> str:
    return reverse("studio:guideline-list", args=[agent.pk]) + (f"?{query}" if query else "")


def detail_url(guideline: Guideline) -> str:
    return reverse("studio:guideline-detail", args=[guideline.agent_id, guideline.pk])


def update_url(guideline: Guideline) -> str:
    return reverse("studio:guideline-update", args=[guideline.agent_id, guideline.pk])


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": "lost-bag",
        "title": "Lost bag",
        "condition": "The customer's bag did not arrive",
        "action": "Open a claim",
        "description": "",
        "criticality": "medium",
        "priority": "0",
        "enabled": "on",
        "track": "on",
        "tags": "",
        "labels": "",
        "metadata-key": [""],
        "metadata-value": [""],
    }
    data.update(overrides)
    return data


def field_block(html: str, name: str) -> str:
    """The markup of one field's block (label, input, its messages)."""
    start = html.index(f'id="field-{name}"')
    end = html.find('id="field-', start + 10)
    return html[start : end if end > 0 else len(html)]


# ---------------------------------------------------------------- the list


def test_the_list_shows_guidelines_and_observations_with_tags_tools_and_criticality(
    editor_client: Client, agent: Agent
) -> None:
    tool = make_tool(agent, "find_booking")
    guideline = make_guideline(agent, "lost-bag", condition="The bag is missing", tags=[make_tag("vip")])
    guideline.tools.add(tool)
    make_guideline(agent, "notice-anger", condition="The customer is angry", action=None, criticality="high")
    html = editor_client.get(list_url(agent)).content.decode()
    assert "<html" in html and "lost-bag" in html and "notice-anger" in html
    assert "vip" in html and "find_booking" in html
    assert "Observation (no action)" in html
    assert "badge-critical-high" in html
    assert reverse("studio:guideline-detail", args=[agent.pk, guideline.pk]) in html


def test_the_list_with_htmx_returns_only_the_results_fragment(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "lost-bag")
    html = editor_client.get(list_url(agent, "q=lost"), **HX).content.decode()
    assert "<html" not in html and 'id="guideline-results"' in html and "lost-bag" in html


def test_an_agent_without_guidelines_shows_the_empty_state_with_a_way_to_add_one(
    editor_client: Client, agent: Agent
) -> None:
    html = editor_client.get(list_url(agent)).content.decode()
    assert "No guidelines yet" in html
    assert "Add the first guideline" in html


def test_a_search_that_matches_nothing_says_so_and_offers_to_clear_it(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "lost-bag")
    html = editor_client.get(list_url(agent, "q=zebra")).content.decode()
    assert "No guideline matches" in html and "zebra" in html and "Clear search and filters" in html
    assert "No guidelines yet" not in html


def test_search_looks_in_key_title_condition_and_action(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "by-key-refund")
    make_guideline(agent, "by-title", title="Refund window")
    make_guideline(agent, "by-condition", condition="The customer wants a refund")
    make_guideline(agent, "by-action", action="Explain the refund policy")
    make_guideline(agent, "unrelated", condition="The customer says hello", action="Greet them")
    html = editor_client.get(list_url(agent, "q=refund"), **HX).content.decode()
    for key in ("by-key-refund", "by-title", "by-condition", "by-action"):
        assert key in html
    assert "unrelated" not in html
    assert "4 guidelines match" in html


def test_filters_narrow_by_tag_enabled_criticality_tools_observation_and_journey_scope(
    editor_client: Client, agent: Agent
) -> None:
    make_journey(agent, "refund-flow")
    tool = make_tool(agent, "find_booking")
    tagged = make_guideline(agent, "tagged", tags=[make_tag("vip")])
    off = make_guideline(agent, "switched-off", enabled=False)
    high = make_guideline(agent, "very-important", criticality="high")
    with_tool = make_guideline(agent, "uses-a-tool")
    with_tool.tools.add(tool)
    observation = make_guideline(agent, "an-observation", action=None)
    scoped = make_guideline(agent, "in-the-journey", tags=[make_tag("journey:refund-flow")])
    cases = {
        "tag=vip": tagged,
        "enabled=no": off,
        "criticality=high": high,
        "tools=yes": with_tool,
        "observation=yes": observation,
        "journey=refund-flow": scoped,
    }
    everyone = {tagged, off, high, with_tool, observation, scoped}
    for query, expected in cases.items():
        html = editor_client.get(list_url(agent, query), **HX).content.decode()
        assert f'id="guideline-{expected.pk}"' in html, query
        for other in everyone - {expected}:
            assert f'id="guideline-{other.pk}"' not in html, (query, other.key)


def test_the_filter_form_offers_the_agents_tags_and_journeys(editor_client: Client, agent: Agent) -> None:
    make_journey(agent, "refund-flow")
    make_guideline(agent, "tagged", tags=[make_tag("vip")])
    html = editor_client.get(list_url(agent)).content.decode()
    assert '<option value="vip"' in html and '<option value="refund-flow"' in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("key", ["alpha", "bravo", "charlie"]),
        ("-key", ["charlie", "bravo", "alpha"]),
        ("title", ["bravo", "charlie", "alpha"]),
        ("-priority", ["charlie", "alpha", "bravo"]),
        ("-updated", ["bravo", "charlie", "alpha"]),
    ],
)
def test_the_list_sorts_by_key_title_priority_and_update_time(
    editor_client: Client, agent: Agent, sort: str, expected: list[str]
) -> None:
    make_guideline(agent, "alpha", title="Zulu", priority=5)
    make_guideline(agent, "charlie", title="Mike", priority=9)
    make_guideline(agent, "bravo", title="Alpha", priority=1)
    Guideline.objects.filter(key="bravo").update(updated_at="2100-01-01T00:00:00Z")
    Guideline.objects.filter(key="alpha").update(updated_at="2000-01-01T00:00:00Z")
    html = editor_client.get(list_url(agent, f"sort={sort}"), **HX).content.decode()
    positions = [html.index(f">{key}</a>") for key in expected]
    assert positions == sorted(positions)


def test_an_unknown_sort_or_filter_value_is_ignored(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "alpha")
    response = editor_client.get(list_url(agent, "sort=drop+table&enabled=maybe&criticality=extreme&page=x"))
    assert response.status_code == 200 and "alpha" in response.content.decode()


def test_the_list_shows_fifty_guidelines_a_page_and_keeps_filters_in_the_pager(
    editor_client: Client, agent: Agent
) -> None:
    Guideline.objects.bulk_create(
        [Guideline(agent=agent, key=f"g-{number:03d}", condition="The customer asks") for number in range(120)]
    )
    html = editor_client.get(list_url(agent, "q=g-")).content.decode()
    assert html.count('name="selected"') == 50
    assert "Page 1 of 3" in html and "q=g-&amp;page=2" in html
    last = editor_client.get(list_url(agent, "q=g-&page=3")).content.decode()
    assert last.count('name="selected"') == 20 and "g-119" in last


def _list_queries(client: Client, agent: Agent, count: int) -> int:
    tools = [make_tool(agent, f"tool_{number}") for number in range(3)]
    tags = [make_tag(f"tag-{number}") for number in range(3)]
    for number in range(count):
        guideline = make_guideline(agent, f"guideline-{number:03d}", tags=tags[: number % 3 + 1])
        guideline.tools.add(*tools[: number % 3])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(list_url(agent))
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_the_same_number_of_queries_for_3_and_60_guidelines(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    few = _list_queries(editor_client, agent, 3)
    many = _list_queries(editor_client, other_agent, 60)
    assert few == many
    assert many <= 15


# ---------------------------------------------------------------- permissions


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent)
    for url in (list_url(agent), detail_url(guideline), reverse("studio:guideline-create", args=[agent.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def test_an_outsider_may_not_open_the_guideline_pages(outsider_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent)
    for url in (list_url(agent), detail_url(guideline)):
        response = outsider_client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode()


def test_a_tester_reads_guidelines_but_cannot_change_them(tester_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    listing = tester_client.get(list_url(agent)).content.decode()
    assert "lost-bag" in listing and "New guideline" not in listing and 'name="selected"' not in listing
    page = tester_client.get(detail_url(guideline))
    assert page.status_code == 200 and "Open a claim" not in page.content.decode()  # reads, no edit form
    assert 'name="condition"' not in page.content.decode()
    posts = [
        (reverse("studio:guideline-create", args=[agent.pk]), form_data(key="new-one")),
        (update_url(guideline), form_data(key="lost-bag", revision=guideline.revision)),
        (reverse("studio:guideline-toggle", args=[agent.pk, guideline.pk]), {}),
        (reverse("studio:guideline-delete", args=[agent.pk, guideline.pk]), {}),
        (reverse("studio:guideline-bulk", args=[agent.pk]), {"selected": [guideline.pk], "operation": "delete"}),
    ]
    for url, data in posts:
        assert tester_client.post(url, data).status_code == 403, url
    assert tester_client.get(update_url(guideline)).status_code == 403
    guideline.refresh_from_db()
    assert guideline.enabled and Guideline.objects.filter(agent=agent).count() == 1


def test_a_guideline_of_another_agent_is_not_found_under_this_agents_address(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    foreign = make_guideline(other_agent, "foreign")
    for name in ("guideline-detail", "guideline-update"):
        assert editor_client.get(reverse(f"studio:{name}", args=[agent.pk, foreign.pk])).status_code == 404
    for name in ("guideline-toggle", "guideline-delete"):
        assert editor_client.post(reverse(f"studio:{name}", args=[agent.pk, foreign.pk])).status_code == 404
    assert (
        editor_client.post(update_url(foreign).replace(f"/{other_agent.pk}/", f"/{agent.pk}/"), form_data()).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.enabled


# ---------------------------------------------------------------- creating


def test_the_new_guideline_form_is_a_page_without_htmx_and_a_fragment_with_it(
    editor_client: Client, agent: Agent
) -> None:
    make_tool(agent, "find_booking")
    url = reverse("studio:guideline-create", args=[agent.pk])
    page = editor_client.get(url).content.decode()
    fragment = editor_client.get(url, **HX).content.decode()
    assert "<html" in page and "New guideline" in page and "find_booking" in page
    assert "<html" not in fragment and 'id="guideline-new-form"' in fragment


def test_an_editor_creates_a_guideline_with_tags_tools_labels_and_metadata_rows(
    editor_client: Client, agent: Agent, editor_user: Any
) -> None:
    tool = make_tool(agent, "find_booking")
    data = form_data(
        tags="vip, journey:refund",
        tools=[str(tool.pk)],
        labels="baggage\nclaims",
        **{"metadata-key": ["owner", "weight", ""], "metadata-value": ["ops", "3", ""]},
    )
    response = editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), data)
    guideline = Guideline.objects.get(agent=agent, key="lost-bag")
    assert response.status_code == 302 and response["Location"] == detail_url(guideline)
    assert sorted(tag.name for tag in guideline.tags.all()) == ["journey:refund", "vip"]
    assert list(guideline.tools.all()) == [tool]
    assert guideline.labels == ["baggage", "claims"]
    assert guideline.metadata == {"owner": "ops", "weight": 3}
    entry = AuditEntry.objects.get(entity_type="guideline", entity_id=guideline.pk)
    assert entry.user == editor_user and entry.source == "studio"


def test_an_empty_action_makes_an_observation(editor_client: Client, agent: Agent) -> None:
    editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), form_data(action="  "))
    assert Guideline.objects.get(agent=agent, key="lost-bag").action is None


def test_creating_inline_with_htmx_returns_a_fresh_form_and_tells_the_list_to_reload(
    editor_client: Client, agent: Agent
) -> None:
    response = editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), form_data(), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "guidelines-changed"
    assert "<html" not in html and "created" in html and 'value="lost-bag"' not in html


def test_each_validation_message_is_shown_beside_its_field(editor_client: Client, agent: Agent) -> None:
    data = form_data(key="Not A Key!", condition="", tags="bad tag!", **{"metadata-key": [""], "metadata-value": ["x"]})
    response = editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), data, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Lowercase letters, digits and dashes" in field_block(html, "key")
    assert "This field is required" in field_block(html, "condition")
    assert "is not a tag name" in field_block(html, "tags")
    assert "needs a key" in field_block(html, "metadata")
    assert not Guideline.objects.filter(agent=agent).exists()


def test_a_duplicate_key_is_refused_beside_the_key_field(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "lost-bag")
    response = editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), form_data())
    assert response.status_code == 409
    assert "already taken" in field_block(response.content.decode(), "key")


def test_a_tool_of_another_agent_cannot_be_picked(editor_client: Client, agent: Agent, other_agent: Agent) -> None:
    foreign = make_tool(other_agent, "foreign_tool")
    response = editor_client.post(reverse("studio:guideline-create", args=[agent.pk]), form_data(tools=[foreign.pk]))
    assert response.status_code == 422
    assert "valid choice" in field_block(response.content.decode(), "tools")


# ---------------------------------------------------------------- the guideline's page and editing


def test_the_guideline_page_shows_its_form_relationships_and_history_link(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag", metadata={"owner": "ops"}, labels=["claims"])
    html = editor_client.get(detail_url(guideline)).content.decode()
    assert "<html" in html and 'name="condition"' in html and "Relationships" in html
    assert 'name="metadata-key" value="owner"' in html and 'value="ops"' in html
    assert "claims" in html
    audit = reverse("studio:audit-list", args=[agent.pk]) if _resolves("studio:audit-list", agent.pk) else None
    if audit:
        assert f"{audit}?entity_type=guideline&amp;entity_id={guideline.pk}" in html


def _resolves(name: str, *args: Any) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


def test_the_guideline_page_with_htmx_is_a_fragment(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    html = editor_client.get(detail_url(guideline), **HX).content.decode()
    assert "<html" not in html and f'id="guideline-{guideline.pk}-page"' in html
    row = editor_client.get(detail_url(guideline) + "?part=row", **HX).content.decode()
    assert row.strip().startswith(f'<tr id="guideline-{guideline.pk}"')


def test_the_guideline_page_lists_its_lint_findings(
    editor_client: Client, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    guideline = make_guideline(agent, "lost-bag")
    finding = {"severity": "warning", "code": "x", "message": "Never matched in tests", "path": ""}
    monkeypatch.setattr("behavior.views.guidelines.entity_lint", lambda agent, entity, ref: [finding])
    assert "Never matched in tests" in editor_client.get(detail_url(guideline)).content.decode()


def test_an_editor_saves_changes_and_returns_to_the_guideline_page(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    data = form_data(condition="The bag is late", action="", revision=guideline.revision, enabled="")
    response = editor_client.post(update_url(guideline), data)
    assert response.status_code == 302 and response["Location"] == detail_url(guideline)
    guideline.refresh_from_db()
    assert guideline.condition == "The bag is late" and guideline.action is None and not guideline.enabled
    assert guideline.revision == 2


def test_editing_on_the_page_with_htmx_returns_the_form_fragment(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    response = editor_client.post(update_url(guideline), form_data(revision=guideline.revision), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "Saved (revision 2)" in html
    assert 'name="revision" value="2"' in html


def test_editing_inline_in_the_list_swaps_the_row_for_a_form_and_back(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    form = editor_client.get(update_url(guideline) + "?in=row", **HX).content.decode()
    assert form.strip().startswith(f'<tr id="guideline-{guideline.pk}" class="editing"')
    assert 'name="in" value="row"' in form
    saved = editor_client.post(update_url(guideline), form_data(title="Bag gone", revision=1, **{"in": "row"}), **HX)
    html = saved.content.decode()
    assert saved.status_code == 200 and "<html" not in html and "Bag gone" in html and "saved" in html
    refused = editor_client.post(update_url(guideline), form_data(condition="", revision=2, **{"in": "row"}), **HX)
    assert refused.status_code == 422 and 'class="editing"' in refused.content.decode()


def test_the_edit_form_without_htmx_is_the_full_page(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    html = editor_client.get(update_url(guideline)).content.decode()
    assert "<html" in html and 'name="condition"' in html


def test_a_stale_revision_is_refused_with_both_versions_shown(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag", condition="The original condition")
    Guideline.objects.filter(pk=guideline.pk).update(condition="Someone else's condition", revision=2)
    response = editor_client.post(update_url(guideline), form_data(condition="My condition", revision=1))
    html = response.content.decode()
    assert response.status_code == 409
    assert "The current version" in html
    assert "Someone else&#x27;s condition" in html and "My condition" in html
    guideline.refresh_from_db()
    assert guideline.condition == "Someone else's condition"


# ---------------------------------------------------------------- toggle, delete, bulk


def test_the_toggle_switches_a_guideline_off_and_on_and_returns_its_row(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    url = reverse("studio:guideline-toggle", args=[agent.pk, guideline.pk])
    row = editor_client.post(url, **HX).content.decode()
    guideline.refresh_from_db()
    assert not guideline.enabled and row.strip().startswith(f'<tr id="guideline-{guideline.pk}" class="disabled')
    response = editor_client.post(url, {"back": "q=lost&evil=1"})
    guideline.refresh_from_db()
    assert guideline.enabled and response.status_code == 302 and response["Location"] == list_url(agent, "q=lost")


def test_deleting_a_guideline_asks_first_and_removes_it(editor_client: Client, agent: Agent) -> None:
    guideline = make_guideline(agent, "lost-bag")
    assert "data-confirm=" in editor_client.get(list_url(agent)).content.decode()
    response = editor_client.post(reverse("studio:guideline-delete", args=[agent.pk, guideline.pk]))
    assert response.status_code == 302 and response["Location"] == list_url(agent)
    assert not Guideline.objects.filter(pk=guideline.pk).exists()
    assert AuditEntry.objects.filter(entity_type="guideline", entity_id=guideline.pk, action="delete").exists()


def test_bulk_actions_tag_disable_enable_and_delete_only_this_agents_guidelines(
    editor_client: Client, agent: Agent, other_agent: Agent
) -> None:
    first, second = make_guideline(agent, "first"), make_guideline(agent, "second", tags=[make_tag("old")])
    untouched = make_guideline(agent, "untouched")
    foreign = make_guideline(other_agent, "foreign")
    url = reverse("studio:guideline-bulk", args=[agent.pk])
    selected = [first.pk, second.pk, foreign.pk]
    editor_client.post(url, {"selected": selected, "operation": "tag", "tag": "vip"})
    assert {tag.name for tag in second.tags.all()} == {"old", "vip"} and [t.name for t in first.tags.all()] == ["vip"]
    assert not foreign.tags.exists() and not untouched.tags.exists()
    editor_client.post(url, {"selected": selected, "operation": "disable"})
    assert list(Guideline.objects.filter(enabled=False).order_by("key").values_list("key", flat=True)) == [
        "first",
        "second",
    ]
    editor_client.post(url, {"selected": selected, "operation": "enable"})
    assert Guideline.objects.filter(enabled=False).count() == 0
    response = editor_client.post(url, {"selected": selected, "operation": "delete", "back": "sort=-key"})
    assert response.status_code == 302 and response["Location"] == list_url(agent, "sort=-key")
    assert set(Guideline.objects.values_list("key", flat=True)) == {"untouched", "foreign"}


def test_the_bulk_bar_has_select_all_and_a_confirmed_delete(editor_client: Client, agent: Agent) -> None:
    make_guideline(agent, "first")
    html = editor_client.get(list_url(agent)).content.decode()
    assert 'data-select-all="#guideline-table"' in html and "data-selected-count" in html
    assert 'value="delete" class="danger" data-confirm=' in html


def test_a_bulk_action_without_a_selection_or_tag_name_changes_nothing_and_says_why(
    editor_client: Client, agent: Agent
) -> None:
    guideline = make_guideline(agent, "first")
    url = reverse("studio:guideline-bulk", args=[agent.pk])
    response = editor_client.post(url, {"operation": "delete"}, follow=True)
    assert "Select guidelines first." in response.content.decode()
    response = editor_client.post(url, {"selected": [guideline.pk], "operation": "tag", "tag": ""}, follow=True)
    assert "Name the tag to add." in response.content.decode()
    response = editor_client.post(url, {"selected": ["1; drop"], "operation": "disable"}, follow=True)
    assert "not a list of ids" in response.content.decode()
    guideline.refresh_from_db()
    assert guideline.enabled and not guideline.tags.exists()


# ---------------------------------------------------------------- hostile texts


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_texts_in_a_guideline_show_as_text_on_the_list_and_its_page(
    editor_client: Client, tester_client: Client, agent: Agent, text: str
) -> None:
    guideline = make_guideline(agent, "hostile", title=text, condition=text, action=text, description=text)
    for html in (
        editor_client.get(list_url(agent)).content.decode(),
        editor_client.get(list_url(agent), **HX).content.decode(),
        editor_client.get(detail_url(guideline)).content.decode(),
        tester_client.get(detail_url(guideline)).content.decode(),
        editor_client.get(update_url(guideline) + "?in=row", **HX).content.decode(),
        editor_client.get(list_url(agent, "q=" + text[:5])).content.decode(),
    ):
        assert_shown_as_text(html, text)
