"""The studio's canned response pages: list, inline create, detail, edit, delete, and the live preview."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from behavior.models import CannedResponse
from behavior.services.audit import SYSTEM
from behavior.services.canned_responses import canned_response_create, canned_response_update
from behavior.services.variables import context_value_create, context_variable_create
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lint_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The linter is another family's work: here it says one thing about the response a page asks about."""
    monkeypatch.setattr(
        "behavior.views.canned_responses.entity_lint",
        lambda agent, *, entity, ref: [
            {"severity": "info", "message": f"Lint says {entity} {ref} is long", "path": ""}
        ],
    )


CLAIM_TEMPLATE = "Your reference is {{ claim_reference }}, {{ customer.name }}."
CLAIM_FIELDS = [{"name": "claim_reference", "kind": "tool", "description": "From file_baggage_claim"}]


def make_response(agent: Any, key: str = "claim-filed", **data: Any) -> CannedResponse:
    values = {"key": key, "template": CLAIM_TEMPLATE, "fields": CLAIM_FIELDS, "signals": ["my bag is lost"], **data}
    return canned_response_create(agent=agent, data=values, actor=SYSTEM)


def response_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "key": "claim-filed",
        "template": CLAIM_TEMPLATE,
        "fields-name": ["claim_reference", ""],
        "fields-kind": ["tool", ""],
        "fields-description": ["From file_baggage_claim", ""],
        "signals": "my bag is lost",
        "tags": "",
    }
    data.update(overrides)
    return data


def block(html: str, field: str) -> str:
    return html.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]


def test_the_list_shows_the_agents_responses_and_the_fields_they_use(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    make_response(agent)
    make_response(other_agent, "elsewhere")
    response = editor_client.get(reverse("studio:canned-response-list", args=[agent.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "claim-filed" in html and "claim_reference" in html and "elsewhere" not in html


def test_the_list_fragment_searches_by_text(editor_client: Any, agent: Any) -> None:
    make_response(agent)
    make_response(agent, "fee-quote", template="It costs 90 EUR.", fields=[])
    url = reverse("studio:canned-response-list", args=[agent.pk])
    html = editor_client.get(url, {"q": "90 EUR"}, **HX).content.decode()
    assert "<html" not in html and "fee-quote" in html and "claim-filed" not in html
    assert editor_client.get(url, {"q": "x" * 1000}, **HX).status_code == 200
    assert "No canned response matches" in editor_client.get(url, {"q": "zzz"}, **HX).content.decode()


def test_an_empty_list_invites_the_first_response_and_is_paginated_when_long(editor_client: Any, agent: Any) -> None:
    url = reverse("studio:canned-response-list", args=[agent.pk])
    assert "No canned responses yet" in editor_client.get(url).content.decode()
    for index in range(51):
        make_response(agent, f"reply-{index:02d}", template="Hello.", fields=[])
    html = editor_client.get(url, **HX).content.decode()
    assert "Page 1 of 2" in html and "reply-50" not in html
    assert "reply-50" in editor_client.get(url, {"page": 2}, **HX).content.decode()


def test_an_editor_adds_a_response_inline_with_its_declared_fields(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:canned-response-create", args=[agent.pk]), response_post(), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "Added" in html
    assert "canned-responses-changed" in response["HX-Trigger"]
    created = CannedResponse.objects.get(agent=agent, key="claim-filed")
    assert created.fields == CLAIM_FIELDS and created.signals == ["my bag is lost"]


def test_without_javascript_adding_a_response_redirects_to_it(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:canned-response-create", args=[agent.pk]), response_post())
    created = CannedResponse.objects.get(agent=agent, key="claim-filed")
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:canned-response-detail", args=[agent.pk, created.pk])
    page = editor_client.get(reverse("studio:canned-response-create", args=[agent.pk])).content.decode()
    assert "<html" in page and 'name="fields-name"' in page


def test_an_unknown_template_field_is_refused_beside_the_template(editor_client: Any, agent: Any) -> None:
    data = response_post(template="Hi {{ booking_status }}")
    response = editor_client.post(reverse("studio:canned-response-create", args=[agent.pk]), data, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Unknown template field {{ booking_status }}" in block(html, "template")
    assert "field-unknown" in block(html, "template") and "booking_status" in block(html, "template")
    assert not CannedResponse.objects.filter(agent=agent).exists()


def test_a_variable_field_must_name_one_of_the_agents_variables(editor_client: Any, agent: Any) -> None:
    data = response_post(
        template="You are {{ loyalty_tier }}",
        **{"fields-name": ["loyalty_tier"], "fields-kind": ["variable"], "fields-description": ["tier"]},
    )
    response = editor_client.post(reverse("studio:canned-response-create", args=[agent.pk]), data)
    assert response.status_code == 422
    assert "unknown context variable" in block(response.content.decode(), "fields")


def test_a_field_row_without_a_kind_is_refused_beside_the_fields(editor_client: Any, agent: Any) -> None:
    data = response_post(**{"fields-kind": ["", ""]})
    response = editor_client.post(reverse("studio:canned-response-create", args=[agent.pk]), data)
    assert response.status_code == 422
    assert "choose where its value comes from" in block(response.content.decode(), "fields")


def test_the_preview_renders_the_template_with_sample_values_through_the_engine(editor_client: Any, agent: Any) -> None:
    data = {
        "template": CLAIM_TEMPLATE,
        "fields-name": ["claim_reference"],
        "fields-kind": ["tool"],
        "fields-description": [""],
        "sample-key": ["claim_reference"],
        "sample-value": ["PIR-123"],
    }
    response = editor_client.post(reverse("studio:canned-response-preview", args=[agent.pk]), data, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Your reference is PIR-123, Ada Lovelace." in html
    assert 'id="template-check"' in html and 'hx-swap-oob="true"' in html


def test_the_preview_flags_unknown_fields_and_names_missing_samples(editor_client: Any, agent: Any) -> None:
    data = {"template": "Hello {{ customer.name }}, your {{ mystery }} is ready."}
    response = editor_client.post(reverse("studio:canned-response-preview", args=[agent.pk]), data, **HX)
    html = response.content.decode()
    assert "Unknown template field {{ mystery }}" in html and "field-unknown" in html
    assert "Type a sample value for mystery" in html


def test_the_preview_reports_broken_braces_as_the_save_would(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(
        reverse("studio:canned-response-preview", args=[agent.pk]), {"template": "Hi {{ customer.name"}, **HX
    )
    assert "Unclosed" in response.content.decode()


def test_the_preview_fills_a_variable_field_with_the_variables_default_value(editor_client: Any, agent: Any) -> None:
    variable = context_variable_create(agent=agent, data={"name": "loyalty_tier", "description": "Tier"}, actor=SYSTEM)
    context_value_create(variable, data={"scope": "default", "value": "standard"}, actor=SYSTEM)
    data = {"template": "As a {{ loyalty_tier }} member", "fields-name": ["loyalty_tier"], "fields-kind": ["variable"]}
    html = editor_client.post(reverse("studio:canned-response-preview", args=[agent.pk]), data, **HX).content.decode()
    assert "As a standard member" in html and "Unknown" not in html


def test_without_javascript_the_preview_is_a_page(editor_client: Any, agent: Any) -> None:
    url = reverse("studio:canned-response-preview", args=[agent.pk])
    response = editor_client.post(url, {"template": "Hello {{ agent.name }}"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and f"Hello {agent.name}" in html
    assert editor_client.get(url).status_code == 200


def test_the_response_page_shows_the_fields_its_template_uses_lint_and_history(editor_client: Any, agent: Any) -> None:
    canned = make_response(agent)
    html = editor_client.get(reverse("studio:canned-response-detail", args=[agent.pk, canned.pk])).content.decode()
    assert "Lint says canned_response claim-filed is long" in html
    assert "claim_reference" in block(html, "template") and "tool result" in block(html, "template")
    assert 'id="canned-preview"' in html
    try:
        audit = reverse("studio:audit-list", args=[agent.pk])
    except Exception:  # the history page belongs to another family
        audit = None
    if audit:
        assert f"{audit}?entity_type=canned_response&amp;entity_id={canned.pk}" in html


def test_an_editor_saves_a_response_with_htmx(editor_client: Any, agent: Any) -> None:
    canned = make_response(agent)
    url = reverse("studio:canned-response-update", args=[agent.pk, canned.pk])
    response = editor_client.post(
        url, response_post(template="Ref {{ claim_reference }}", revision=canned.revision), **HX
    )
    assert response.status_code == 200 and "Saved." in response.content.decode()
    canned.refresh_from_db()
    assert canned.template == "Ref {{ claim_reference }}"
    assert editor_client.get(url).status_code == 200
    plain = editor_client.post(url, response_post(revision=canned.revision))
    assert plain.status_code == 302


def test_a_stale_edit_is_refused_with_both_versions_shown(editor_client: Any, agent: Any) -> None:
    canned = make_response(agent)
    opened_at = canned.revision
    canned_response_update(canned, data={"template": "Changed {{ claim_reference }} elsewhere"}, actor=SYSTEM)
    url = reverse("studio:canned-response-update", args=[agent.pk, canned.pk])
    response = editor_client.post(url, response_post(template="Mine {{ claim_reference }}", revision=opened_at), **HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert "since you opened it" in html and "Changed {{ claim_reference }} elsewhere" in html
    assert "Mine {{ claim_reference }}" in html


def test_an_editor_deletes_a_response(editor_client: Any, agent: Any) -> None:
    first, second = make_response(agent), make_response(agent, "second")
    response = editor_client.post(reverse("studio:canned-response-delete", args=[agent.pk, first.pk]), **HX)
    assert response.status_code == 200 and response.content == b""
    plain = editor_client.post(reverse("studio:canned-response-delete", args=[agent.pk, second.pk]))
    assert plain.status_code == 302 and not CannedResponse.objects.filter(agent=agent).exists()


def test_a_tester_reads_and_previews_responses_but_cannot_change_them(tester_client: Any, agent: Any) -> None:
    canned = make_response(agent)
    assert tester_client.get(reverse("studio:canned-response-list", args=[agent.pk])).status_code == 200
    detail = tester_client.get(reverse("studio:canned-response-detail", args=[agent.pk, canned.pk]))
    assert detail.status_code == 200 and "my bag is lost" in detail.content.decode()
    preview = tester_client.post(reverse("studio:canned-response-preview", args=[agent.pk]), {"template": "Hi"}, **HX)
    assert preview.status_code == 200
    for url in (
        reverse("studio:canned-response-create", args=[agent.pk]),
        reverse("studio:canned-response-update", args=[agent.pk, canned.pk]),
        reverse("studio:canned-response-delete", args=[agent.pk, canned.pk]),
    ):
        assert tester_client.post(url, response_post(key="taken-over", revision=canned.revision)).status_code == 403
    assert CannedResponse.objects.get(pk=canned.pk).key == "claim-filed"


def test_an_outsider_may_not_open_canned_responses_and_an_anonymous_visitor_logs_in(
    outsider_client: Any, client_for: Any, agent: Any
) -> None:
    canned = make_response(agent)
    urls = (
        reverse("studio:canned-response-list", args=[agent.pk]),
        reverse("studio:canned-response-detail", args=[agent.pk, canned.pk]),
        reverse("studio:canned-response-preview", args=[agent.pk]),
    )
    for url in urls:
        refused = outsider_client.get(url)
        assert refused.status_code == 403 and "You may not open" in refused.content.decode()
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_response_of_another_agent_is_not_found_under_this_agent(
    editor_client: Any, agent: Any, other_agent: Any
) -> None:
    foreign = make_response(other_agent)
    assert editor_client.get(reverse("studio:canned-response-detail", args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.get(reverse("studio:canned-response-update", args=[agent.pk, foreign.pk])).status_code == 404
    assert editor_client.post(reverse("studio:canned-response-delete", args=[agent.pk, foreign.pk])).status_code == 404
    assert CannedResponse.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_templates_are_shown_as_text_on_every_page_and_in_the_preview(
    editor_client: Any, tester_client: Any, agent: Any, hostile: str
) -> None:
    template = hostile + " {{ claim_reference }}"
    canned = make_response(agent, template=template, signals=[hostile + " signal"])
    for client in (editor_client, tester_client):
        for url in (
            reverse("studio:canned-response-list", args=[agent.pk]),
            reverse("studio:canned-response-detail", args=[agent.pk, canned.pk]),
        ):
            assert_shown_as_text(client.get(url).content.decode(), hostile)
    data = {
        "template": template,
        "fields-name": ["claim_reference"],
        "fields-kind": ["tool"],
        "sample-key": ["claim_reference"],
        "sample-value": [hostile],
    }
    for headers in (HX, {}):
        html = editor_client.post(
            reverse("studio:canned-response-preview", args=[agent.pk]), data, **headers
        ).content.decode()
        assert_shown_as_text(html, hostile)
