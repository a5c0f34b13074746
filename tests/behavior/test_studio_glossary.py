"""The studio's glossary pages: list, inline create, detail, edit, delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from behavior.models import GlossaryTerm
from behavior.services.audit import SYSTEM
from behavior.services.glossary import glossary_term_create, glossary_term_update
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lint_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The linter is another family's work: here it says one thing about the term a page asks about."""
    monkeypatch.setattr(
        "behavior.views.glossary.entity_lint",
        lambda agent, *, entity, ref: [
            {"severity": "warning", "message": f"Lint says {entity} {ref} is vague", "path": ""}
        ],
    )


def make_term(agent: Any, name: str = "PNR", **data: Any) -> GlossaryTerm:
    values = {"name": name, "synonyms": ["booking reference"], "description": "The six-letter booking code.", **data}
    return glossary_term_create(agent=agent, data=values, actor=SYSTEM)


def term_post(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Bag tag",
        "synonyms": "baggage tag\nluggage tag",
        "description": "The label.",
        "tags": "",
        **overrides,
    }


def test_the_list_shows_the_agents_terms_with_their_synonyms_as_chips(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    make_term(agent)
    make_term(other_agent, "Elsewhere")
    html = editor_client.get(reverse("studio:glossary-list", args=[agent.pk])).content.decode()
    assert "PNR" in html and "booking reference" in html and 'class="chip chip-static"' in html
    assert "Elsewhere" not in html
    assert "<html" in html


def test_the_list_fragment_for_htmx_is_only_the_table(editor_client: Any, agent: Any) -> None:
    make_term(agent)
    response = editor_client.get(reverse("studio:glossary-list", args=[agent.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="term-table"' in html


def test_the_search_finds_terms_by_synonym_and_keeps_the_query_bounded(editor_client: Any, agent: Any) -> None:
    make_term(agent)
    make_term(agent, "Flex fare", synonyms=["flexible"], description="Free changes.")
    url = reverse("studio:glossary-list", args=[agent.pk])
    html = editor_client.get(url, {"q": "flexible"}, **HX).content.decode()
    assert "Flex fare" in html and "PNR" not in html
    assert editor_client.get(url, {"q": "x" * 5000}).status_code == 200
    assert "No term matches" in editor_client.get(url, {"q": "nothing-like-this"}).content.decode()


def test_an_empty_glossary_invites_the_first_term(editor_client: Any, agent: Any) -> None:
    html = editor_client.get(reverse("studio:glossary-list", args=[agent.pk])).content.decode()
    assert "No glossary terms yet" in html and "Add the first term" in html


def test_the_list_is_paginated(editor_client: Any, agent: Any) -> None:
    for index in range(55):
        make_term(agent, f"Term {index:02d}", synonyms=[])
    url = reverse("studio:glossary-list", args=[agent.pk])
    first = editor_client.get(url).content.decode()
    assert "Page 1 of 2" in first and "Term 49" in first and "Term 50" not in first
    assert "Term 54" in editor_client.get(url, {"page": 2}).content.decode()


def test_an_editor_adds_a_term_inline_and_the_table_is_told_to_refresh(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:glossary-create", args=[agent.pk]), term_post(tags="vip"), **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "glossary-changed" in response["HX-Trigger"]
    term = GlossaryTerm.objects.get(agent=agent, name="Bag tag")
    assert term.synonyms == ["baggage tag", "luggage tag"] and [tag.name for tag in term.tags.all()] == ["vip"]
    assert "Added" in response.content.decode()


def test_without_javascript_adding_a_term_redirects_to_it(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:glossary-create", args=[agent.pk]), term_post())
    term = GlossaryTerm.objects.get(agent=agent, name="Bag tag")
    assert response.status_code == 302 and response["Location"] == reverse(
        "studio:glossary-detail", args=[agent.pk, term.pk]
    )


def test_the_new_term_page_is_a_full_page_form(editor_client: Any, agent: Any) -> None:
    html = editor_client.get(reverse("studio:glossary-create", args=[agent.pk])).content.decode()
    assert "<html" in html and 'data-chips="lines"' in html


def test_a_missing_description_is_shown_beside_its_field(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:glossary-create", args=[agent.pk]), term_post(description=""), **HX)
    html = response.content.decode()
    assert response.status_code == 422
    block = html.split('id="field-description"', 1)[1].split('id="field-', 1)[0]
    assert "This field is required." in block


def test_a_synonym_listed_twice_is_refused_beside_the_synonyms(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:glossary-create", args=[agent.pk]), term_post(synonyms="bag\nBAG"))
    html = response.content.decode()
    assert response.status_code == 422
    assert "listed twice" in html.split('id="field-synonyms"', 1)[1].split('id="field-', 1)[0]


def test_a_duplicate_name_is_a_conflict_beside_the_name(editor_client: Any, agent: Any) -> None:
    make_term(agent, "Bag tag")
    response = editor_client.post(reverse("studio:glossary-create", args=[agent.pk]), term_post(name="bag TAG"))
    assert response.status_code == 409
    assert "already taken" in response.content.decode().split('id="field-name"', 1)[1].split('id="field-', 1)[0]


def test_the_term_page_shows_its_lint_findings_and_links_to_its_history(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    html = editor_client.get(reverse("studio:glossary-detail", args=[agent.pk, term.pk])).content.decode()
    assert "Lint says glossary_term PNR is vague" in html and 'class="entity-lint"' in html
    assert "entity_type=glossary_term&amp;entity_id=" in html or "audit-list" not in html


def test_an_editor_saves_a_term_with_htmx_and_gets_the_fresh_form(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    response = editor_client.post(
        reverse("studio:glossary-update", args=[agent.pk, term.pk]),
        term_post(name="PNR", description="Booking code", revision=term.revision),
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "Saved." in html
    term.refresh_from_db()
    assert term.description == "Booking code" and f'name="revision" value="{term.revision}"' in html


def test_without_javascript_saving_a_term_redirects_to_it(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    response = editor_client.post(
        reverse("studio:glossary-update", args=[agent.pk, term.pk]), term_post(revision=term.revision)
    )
    assert response.status_code == 302
    assert editor_client.get(reverse("studio:glossary-update", args=[agent.pk, term.pk])).status_code == 200


def test_a_stale_edit_is_refused_with_both_versions_shown(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    opened_at = term.revision
    glossary_term_update(term, data={"description": "Changed by someone else"}, actor=SYSTEM)
    response = editor_client.post(
        reverse("studio:glossary-update", args=[agent.pk, term.pk]),
        term_post(name="PNR", description="My version", revision=opened_at),
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "since you opened it" in html and "Changed by someone else" in html and "My version" in html
    term.refresh_from_db()
    assert term.description == "Changed by someone else"


def test_an_editor_deletes_a_term_from_the_list(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    response = editor_client.post(reverse("studio:glossary-delete", args=[agent.pk, term.pk]), **HX)
    assert response.status_code == 200 and response.content == b"" and "glossary-changed" in response["HX-Trigger"]
    assert not GlossaryTerm.objects.filter(pk=term.pk).exists()


def test_without_javascript_deleting_a_term_returns_to_the_list(editor_client: Any, agent: Any) -> None:
    term = make_term(agent)
    response = editor_client.post(reverse("studio:glossary-delete", args=[agent.pk, term.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("studio:glossary-list", args=[agent.pk])


def test_a_tester_reads_the_glossary_but_cannot_change_it(tester_client: Any, agent: Any) -> None:
    term = make_term(agent)
    assert tester_client.get(reverse("studio:glossary-list", args=[agent.pk])).status_code == 200
    detail = tester_client.get(reverse("studio:glossary-detail", args=[agent.pk, term.pk]))
    assert detail.status_code == 200 and "booking reference" in detail.content.decode()
    for url in (
        reverse("studio:glossary-create", args=[agent.pk]),
        reverse("studio:glossary-update", args=[agent.pk, term.pk]),
        reverse("studio:glossary-delete", args=[agent.pk, term.pk]),
    ):
        assert tester_client.post(url, term_post(revision=term.revision)).status_code == 403
    assert GlossaryTerm.objects.get(pk=term.pk).name == "PNR"


def test_an_outsider_may_not_open_the_glossary(outsider_client: Any, agent: Any) -> None:
    term = make_term(agent)
    for url in (
        reverse("studio:glossary-list", args=[agent.pk]),
        reverse("studio:glossary-detail", args=[agent.pk, term.pk]),
    ):
        response = outsider_client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_log_in(client_for: Any, agent: Any) -> None:
    term = make_term(agent)
    anonymous = client_for(None)
    for url in (
        reverse("studio:glossary-list", args=[agent.pk]),
        reverse("studio:glossary-detail", args=[agent.pk, term.pk]),
        reverse("studio:glossary-create", args=[agent.pk]),
    ):
        response = anonymous.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_a_term_of_another_agent_is_not_found_under_this_agent(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    foreign = make_term(other_agent)
    assert editor_client.get(reverse("studio:glossary-detail", args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.get(reverse("studio:glossary-update", args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.post(reverse("studio:glossary-delete", args=[agent.pk, foreign.pk])).status_code == 404
    assert GlossaryTerm.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_term_texts_are_shown_as_text_on_every_page(
    editor_client: Any, tester_client: Any, agent: Any, hostile: str
) -> None:
    term = make_term(agent, hostile, synonyms=[hostile + " syn"], description=hostile + " meaning")
    for client in (editor_client, tester_client):
        for url in (
            reverse("studio:glossary-list", args=[agent.pk]),
            reverse("studio:glossary-detail", args=[agent.pk, term.pk]),
        ):
            html = client.get(url).content.decode()
            for text in (hostile, hostile + " syn", hostile + " meaning"):
                assert_shown_as_text(html, text)
    html = editor_client.get(reverse("studio:glossary-update", args=[agent.pk, term.pk])).content.decode()
    assert_shown_as_text(html, hostile + " meaning")
