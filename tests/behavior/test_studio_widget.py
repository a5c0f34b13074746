"""The studio's Website widget page of one agent: enabling the widget, the snippet built from the request's host,
the allowed origins (a bad line named beside the field) and the switches, rotating the public key and the identity
secret after a confirmation, revealing the secret to editors only, and the warnings for an agent with nothing
published or no origins."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from agents.models import WidgetKey
from agents.widget_keys import widget_key_by_public, widget_key_create, widget_key_update
from behavior.models import AuditEntry
from tests.factories import make_agent, make_user
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text
from tests.support.widget import SITE, WidgetClient, published, widget_key_for

pytestmark = pytest.mark.django_db


def page_url(agent: Any) -> str:
    return reverse("studio:widget-detail", args=[agent.pk])


def html_of(response: Any) -> str:
    return str(response.content.decode())


# ---------------------------------------------------------------------------------------------- enabling


def test_an_agent_without_a_key_explains_the_widget_and_offers_to_enable_it(editor_client: Any, agent: Any) -> None:
    response = editor_client.get(page_url(agent))
    html = html_of(response)
    assert response.status_code == 200
    assert "Enable the website widget" in html and "public key" in html
    assert "data-agent-key" not in html


def test_a_tester_sees_the_explanation_but_no_enable_button(tester_client: Any, agent: Any) -> None:
    html = html_of(tester_client.get(page_url(agent)))
    assert "not enabled for this agent" in html and "Enable the website widget" not in html


def test_enabling_the_widget_creates_the_agents_key_once_and_records_it(editor_client: Any, agent: Any) -> None:
    url = reverse("studio:widget-create", args=[agent.pk])
    response = editor_client.post(url)
    assert response.status_code == 302 and response["Location"] == page_url(agent)
    key = WidgetKey.objects.get(agent=agent)
    assert key.public_key.startswith("pk_") and key.enabled and key.allowed_origins == []
    assert editor_client.post(url).status_code == 302
    assert WidgetKey.objects.filter(agent=agent).count() == 1
    entry = AuditEntry.objects.get(entity_type="widget_key", agent=agent)
    assert entry.username == "editor"
    assert key.public_key not in str(entry.changes) and key.identity_secret not in str(entry.changes)


def test_a_tester_cannot_enable_the_widget(tester_client: Any, agent: Any) -> None:
    response = tester_client.post(reverse("studio:widget-create", args=[agent.pk]))
    assert response.status_code == 403 and "You may not open" in html_of(response)
    assert not WidgetKey.objects.filter(agent=agent).exists()


def test_an_outsider_gets_the_styled_refusal(outsider_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    response = outsider_client.get(page_url(agent))
    assert response.status_code == 403 and "You may not open" in html_of(response)


def test_a_missing_agent_is_not_found(editor_client: Any) -> None:
    assert editor_client.get(reverse("studio:widget-detail", args=[999_999])).status_code == 404


# ---------------------------------------------------------------------------------------------- the snippet


def test_the_snippet_is_an_absolute_script_tag_on_the_requests_host_with_the_public_key(
    editor_client: Any, agent: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["support.example.org"]
    key = widget_key_for(agent)
    html = html_of(editor_client.get(page_url(agent), HTTP_HOST="support.example.org"))
    snippet = (
        f'&lt;script src="http://support.example.org/static/widget/decorum.js" '
        f'data-agent-key="{key.public_key}" async&gt;&lt;/script&gt;'
    )
    assert snippet in html
    assert 'data-copy-from="widget-snippet-' in html and "studio/widget.js" in html


def test_the_page_explains_the_data_attributes_and_the_queue_stub(tester_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    html = html_of(tester_client.get(page_url(agent)))
    for attribute in ("data-color", "data-position", "data-greeting", "data-title", "data-locale", "data-open"):
        assert attribute in html
    assert "(Decorum.q=Decorum.q||[]).push(arguments)" in html
    assert "Decorum(&#x27;identify&#x27;" in html or "Decorum('identify'" in html


def test_the_page_warns_when_nothing_is_published_and_no_origin_is_allowed(editor_client: Any, agent: Any) -> None:
    widget_key_create(agent=agent)
    html = html_of(editor_client.get(page_url(agent)))
    assert "the widget will say the assistant is not available" in html
    assert "No allowed origins" in html


def test_the_warnings_go_once_a_version_is_published_and_an_origin_allowed(editor_client: Any, agent: Any) -> None:
    widget_key_for(published(agent))
    html = html_of(editor_client.get(page_url(agent)))
    assert "the assistant is not available" not in html and "No allowed origins" not in html


def test_the_page_as_an_htmx_fragment_is_only_the_widget_region(tester_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    html = html_of(tester_client.get(page_url(agent), **HX))
    assert "<html" not in html and f'id="widget-page-{agent.pk}"' in html


# ---------------------------------------------------------------------------------------------- settings


def test_an_editor_saves_origins_one_per_line_normalized_and_the_switches(editor_client: Any, agent: Any) -> None:
    key = widget_key_create(agent=agent)
    data = {"allowed_origins": "https://Shop.Example.com:443/\n\nhttp://localhost:8000\nhttps://shop.example.com"}
    response = editor_client.post(reverse("studio:widget-update", args=[agent.pk]), {**data, "enforce_identity": "on"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.allowed_origins == ["https://shop.example.com", "http://localhost:8000"]
    assert key.enforce_identity is True and key.enabled is False
    entry = AuditEntry.objects.filter(entity_type="widget_key", agent=agent).order_by("-pk").first()
    assert entry is not None and "allowed_origins" in entry.changes


def test_a_bad_origin_is_refused_beside_the_field_naming_its_line(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    data = {
        "allowed_origins": "https://ok.example.com\nftp://files.example.com\nhttps://*.example.com",
        "enabled": "on",
    }
    response = editor_client.post(reverse("studio:widget-update", args=[agent.pk]), data)
    html = html_of(response)
    assert response.status_code == 422
    field = html.split('id="field-allowed_origins"', 1)[1].split("</div>", 1)[0]
    assert "Line 2:" in field and "ftp://files.example.com" in field
    assert "Line 3:" in field and "wildcards are not allowed" in field
    assert "ftp://files.example.com" in html.split("<textarea", 2)[-1]  # what was typed stays in the field
    key.refresh_from_db()
    assert key.allowed_origins == [SITE]


def test_an_origin_with_a_path_is_refused(editor_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    data = {"allowed_origins": "https://shop.example.com/checkout", "enabled": "on"}
    response = editor_client.post(reverse("studio:widget-update", args=[agent.pk]), data)
    assert response.status_code == 422 and "Line 1:" in html_of(response) and "without a path" in html_of(response)


def test_a_hostile_origin_is_shown_as_text_in_the_error(editor_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    hostile = f"https://x.example.com/{HOSTILE_TEXTS[0]}"
    response = editor_client.post(reverse("studio:widget-update", args=[agent.pk]), {"allowed_origins": hostile})
    html = html_of(response)
    assert response.status_code == 422
    assert HOSTILE_TEXTS[0] not in html and escape(HOSTILE_TEXTS[0]) in html


def test_a_tester_reads_the_settings_but_cannot_save_them(tester_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    html = html_of(tester_client.get(page_url(agent)))
    assert SITE in html and "Save widget settings" not in html and '<textarea name="allowed_origins"' not in html
    response = tester_client.post(reverse("studio:widget-update", args=[agent.pk]), {"allowed_origins": ""})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.allowed_origins == [SITE]


def test_saving_settings_before_the_widget_is_enabled_is_not_found(editor_client: Any, agent: Any) -> None:
    response = editor_client.post(reverse("studio:widget-update", args=[agent.pk]), {"allowed_origins": SITE})
    assert response.status_code == 404 and not WidgetKey.objects.exists()


# ---------------------------------------------------------------------------------------------- the secret


def test_a_tester_and_an_operator_never_see_the_identity_secret(
    client_for: Any, tester_client: Any, agent: Any
) -> None:
    key = widget_key_for(agent)
    operator_client = client_for(make_user("operator-1", "operator"))
    for client in (tester_client, operator_client):
        html = html_of(client.get(page_url(agent)))
        assert key.identity_secret not in html and "Only editors and admins" in html
        assert "Reveal" not in html
        response = client.post(reverse("studio:widget-secret-reveal", args=[agent.pk]))
        assert response.status_code == 403 and key.identity_secret not in html_of(response)


def test_an_editor_sees_the_secret_masked_until_revealed_and_never_cached(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    assert key.identity_secret not in html_of(editor_client.get(page_url(agent)))
    response = editor_client.post(reverse("studio:widget-secret-reveal", args=[agent.pk]))
    assert response.status_code == 200 and key.identity_secret in html_of(response)
    assert "no-store" in response["Cache-Control"]
    fragment = editor_client.post(reverse("studio:widget-secret-reveal", args=[agent.pk]), **HX)
    assert "<html" not in html_of(fragment) and key.identity_secret in html_of(fragment)


def test_revealing_is_refused_on_get(editor_client: Any, agent: Any) -> None:
    widget_key_for(agent)
    assert editor_client.get(reverse("studio:widget-secret-reveal", args=[agent.pk])).status_code == 405


def test_rotating_the_secret_asks_first_then_replaces_it(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    old_secret = key.identity_secret
    url = reverse("studio:widget-secret-rotate", args=[agent.pk])
    confirm = html_of(editor_client.get(url))
    assert "Identities signed with the current secret are refused" in confirm and old_secret not in confirm
    key.refresh_from_db()
    assert key.identity_secret == old_secret
    assert editor_client.post(url).status_code == 302
    key.refresh_from_db()
    assert key.identity_secret != old_secret and len(key.identity_secret) >= 32


# ---------------------------------------------------------------------------------------------- the public key


def test_rotating_the_public_key_warns_that_the_old_snippet_stops_working(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    html = html_of(editor_client.get(reverse("studio:widget-key-rotate", args=[agent.pk])))
    assert "The snippet on your site stops working" in html and key.public_key in html


def test_rotating_the_public_key_invalidates_the_old_one(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(published(agent))
    old_public_key = key.public_key
    customer = WidgetClient(key)
    customer.start()
    session = customer.open_session()
    response = editor_client.post(reverse("studio:widget-key-rotate", args=[agent.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.public_key != old_public_key and key.generation == 2
    assert widget_key_by_public(old_public_key) is None
    assert customer.post("visitor", {"identity": None}, public_key=old_public_key).status_code == 401
    # The customer's token was issued under the old key: refused with the new one too.
    assert customer.get(f"sessions/{session['uid']}/", public_key=key.public_key).status_code == 401
    assert customer.post("visitor", {"identity": None}, public_key=key.public_key).status_code == 200
    assert key.public_key in html_of(editor_client.get(page_url(agent)))


def test_a_tester_cannot_rotate_anything(tester_client: Any, agent: Any) -> None:
    key = widget_key_for(agent)
    for name in ("studio:widget-key-rotate", "studio:widget-secret-rotate"):
        url = reverse(name, args=[agent.pk])
        assert tester_client.get(url).status_code == 403
        assert tester_client.post(url).status_code == 403
    stored = WidgetKey.objects.get(pk=key.pk)
    assert (stored.public_key, stored.identity_secret) == (key.public_key, key.identity_secret)


def test_turning_the_widget_off_refuses_the_snippet(editor_client: Any, agent: Any) -> None:
    key = widget_key_for(published(agent))
    data = {"allowed_origins": SITE}  # "enabled" unticked
    assert editor_client.post(reverse("studio:widget-update", args=[agent.pk]), data).status_code == 302
    assert WidgetClient(key).post("visitor", {"identity": None}).status_code == 401
    assert "The widget is turned off" in html_of(editor_client.get(page_url(agent)))


# ---------------------------------------------------------------------------------------------- other agents


def test_each_agent_shows_its_own_key(editor_client: Any, agent: Any) -> None:
    other = make_agent("Elsewhere")
    mine = widget_key_for(agent)
    theirs = widget_key_for(other, origins=["https://other.example.com"])
    html = html_of(editor_client.get(page_url(agent)))
    assert mine.public_key in html and theirs.public_key not in html and "other.example.com" not in html


def test_the_agents_name_is_shown_as_text(editor_client: Any) -> None:
    agent = make_agent(f"Skyway {HOSTILE_TEXTS[1]}")
    widget_key_update(widget_key_create(agent=agent), allowed_origins=[SITE], enforce_identity=False, enabled=True)
    for url in (
        page_url(agent),
        reverse("studio:widget-key-rotate", args=[agent.pk]),
        reverse("studio:widget-secret-rotate", args=[agent.pk]),
    ):
        assert_shown_as_text(html_of(editor_client.get(url)), HOSTILE_TEXTS[1])
