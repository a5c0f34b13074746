"""The studio's tag pages seen from one agent: the tags it uses with counts, adding, renaming and deleting."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from behavior.models import Tag
from behavior.services.audit import SYSTEM
from behavior.services.glossary import glossary_term_create
from behavior.services.variables import context_value_create, context_variable_create
from tests.factories import make_guideline, make_tag
from tests.support.studio import HX

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lint_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "behavior.views.tags.entity_lint",
        lambda agent, *, entity, ref: [
            {"severity": "info", "message": f"Lint says {entity} {ref} is rare", "path": ""}
        ],
    )


def test_the_list_shows_the_tags_this_agent_uses_with_counts(editor_client: Any, agent: Any, other_agent: Any) -> None:
    vip = make_tag("vip")
    make_guideline(agent, tags=[vip])
    make_guideline(agent, tags=[vip])
    glossary_term_create(agent=agent, data={"name": "PNR", "description": "Code", "tags": ["vip"]}, actor=SYSTEM)
    variable = context_variable_create(agent=agent, data={"name": "tier"}, actor=SYSTEM)
    context_value_create(
        variable, data={"scope": "customer_tag", "tag": "frequent-flyer", "value": "silver"}, actor=SYSTEM
    )
    make_guideline(other_agent, tags=[make_tag("elsewhere")])
    response = editor_client.get(reverse("studio:tag-list", args=[agent.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "2 guidelines" in html and "1 glossary term" in html and "3 in all" in html
    assert "frequent-flyer" in html and "1 variable value" in html
    assert "elsewhere" not in html


def test_every_tag_can_be_shown_and_searched(editor_client: Any, agent: Any) -> None:
    make_tag("vip")
    make_tag("ops")
    url = reverse("studio:tag-list", args=[agent.pk])
    assert "This agent uses no tags yet" in editor_client.get(url).content.decode()
    html = editor_client.get(url, {"show": "all", "q": "vi"}, **HX).content.decode()
    assert "<html" not in html and "vip" in html and "ops" not in html and "not used by this agent" in html
    assert editor_client.get(url, {"q": "v" * 900}, **HX).status_code == 200


def test_the_list_is_paginated(editor_client: Any, agent: Any) -> None:
    for index in range(101):
        make_tag(f"label-{index:03d}")
    url = reverse("studio:tag-list", args=[agent.pk])
    first = editor_client.get(url, {"show": "all"}, **HX).content.decode()
    assert "Page 1 of 2" in first and "label-100" not in first and "show=all" in first
    assert "label-100" in editor_client.get(url, {"show": "all", "page": 2}, **HX).content.decode()


def test_an_editor_adds_a_tag_inline_or_without_javascript(editor_client: Any, agent: Any) -> None:
    url = reverse("studio:tag-create", args=[agent.pk])
    response = editor_client.post(url, {"name": "vip"}, **HX)
    assert (
        response.status_code == 200
        and "<html" not in response.content.decode()
        and "tags-changed" in response["HX-Trigger"]
    )
    plain = editor_client.post(url, {"name": "ops"})
    assert plain.status_code == 302 and set(Tag.objects.values_list("name", flat=True)) == {"vip", "ops"}
    assert "<html" in editor_client.get(url).content.decode()


def test_a_bad_or_taken_tag_name_is_refused_beside_the_name(editor_client: Any, agent: Any) -> None:
    make_tag("vip")
    url = reverse("studio:tag-create", args=[agent.pk])
    bad = editor_client.post(url, {"name": "has space"}, **HX)
    assert bad.status_code == 422 and "no spaces" in bad.content.decode().split('id="field-name"', 1)[1]
    taken = editor_client.post(url, {"name": "vip"}, **HX)
    assert taken.status_code == 409 and "already taken" in taken.content.decode().split('id="field-name"', 1)[1]


def test_an_editor_renames_a_tag_for_every_agent(editor_client: Any, agent: Any) -> None:
    tag = make_tag("vip")
    make_guideline(agent, tags=[tag])
    url = reverse("studio:tag-update", args=[agent.pk, tag.pk])
    page = editor_client.get(url).content.decode()
    assert "shared by every agent" in page and "Lint says tag vip is rare" in page and "1 time" in page
    response = editor_client.post(url, {"name": "gold"}, **HX)
    assert response.status_code == 200 and "Renamed to gold" in response.content.decode()
    assert editor_client.post(url, {"name": "platinum"}).status_code == 302
    tag.refresh_from_db()
    assert tag.name == "platinum"


def test_an_editor_deletes_a_tag(editor_client: Any, agent: Any) -> None:
    first, second = make_tag("vip"), make_tag("ops")
    response = editor_client.post(reverse("studio:tag-delete", args=[agent.pk, first.pk]), **HX)
    assert response.status_code == 200 and response.content == b""
    plain = editor_client.post(reverse("studio:tag-delete", args=[agent.pk, second.pk]))
    assert plain.status_code == 302 and not Tag.objects.exists()


def test_a_tester_reads_tags_but_cannot_change_them(tester_client: Any, agent: Any) -> None:
    tag = make_tag("vip")
    assert tester_client.get(reverse("studio:tag-list", args=[agent.pk]), {"show": "all"}).status_code == 200
    for url in (
        reverse("studio:tag-create", args=[agent.pk]),
        reverse("studio:tag-update", args=[agent.pk, tag.pk]),
        reverse("studio:tag-delete", args=[agent.pk, tag.pk]),
    ):
        assert tester_client.post(url, {"name": "taken"}).status_code == 403
    assert Tag.objects.get(pk=tag.pk).name == "vip"


def test_an_outsider_may_not_open_tags_and_an_anonymous_visitor_logs_in(
    outsider_client: Any, client_for: Any, agent: Any
) -> None:
    url = reverse("studio:tag-list", args=[agent.pk])
    refused = outsider_client.get(url)
    assert refused.status_code == 403 and "You may not open" in refused.content.decode()
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_missing_tag_or_agent_is_not_found(editor_client: Any, agent: Any) -> None:
    assert editor_client.get(reverse("studio:tag-update", args=[agent.pk, 999_999])).status_code == 404
    assert editor_client.get(reverse("studio:tag-list", args=[999_999])).status_code == 404


@pytest.mark.parametrize("name", ["a<b", 'x"onmouseover=alert(1)'])
def test_a_tag_name_with_markup_never_gets_stored(editor_client: Any, agent: Any, name: str) -> None:
    response = editor_client.post(reverse("studio:tag-create", args=[agent.pk]), {"name": name}, **HX)
    assert response.status_code == 422 and not Tag.objects.exists()
    assert name not in response.content.decode()
