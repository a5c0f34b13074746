"""The studio's admin area: only admins open it; they manage users and their roles, and API keys (owned by a
user, shown once, listed, revoked)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from agents.models import ApiKey
from agents.permissions import user_roles
from agents.services import api_key_authenticate, api_key_create
from tests.factories import make_user
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db
KEY = re.compile(r"dec_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def admin_client(client_for: Callable[[Any], Client], admin_user: Any) -> Client:
    return client_for(admin_user)


@pytest.fixture
def key(tester_user: Any, admin_user: Any) -> ApiKey:
    return api_key_create(user=tester_user, name="Tester's CI", role="tester", created_by=admin_user)[0]


def _get_pages(tester_user: Any) -> list[str]:
    return [
        reverse("studio:admin-home"),
        reverse("studio:admin-user-list"),
        reverse("studio:admin-user-create"),
        reverse("studio:admin-user-update", args=[tester_user.pk]),
        reverse("studio:admin-key-list"),
        reverse("studio:admin-key-create"),
    ]


# --------------------------------------------------------------------------------------------- who may open it


@pytest.mark.parametrize("role_user", ["outsider_user", "tester_user", "editor_user", "operator_user"])
def test_everyone_but_an_admin_gets_the_styled_403_on_every_admin_page(
    request: pytest.FixtureRequest, client_for: Callable[[Any], Client], role_user: str, tester_user: Any, key: ApiKey
) -> None:
    client = client_for(request.getfixturevalue(role_user))
    for url in _get_pages(tester_user):
        response = client.get(url)
        assert response.status_code == 403 and "You may not open" in response.content.decode(), url
    assert client.post(reverse("studio:admin-key-revoke", args=[key.pk])).status_code == 403
    assert client.post(reverse("studio:admin-user-create"), {"username": "x", "password": "pw"}).status_code == 403
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert not get_user_model().objects.filter(username="x").exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client_for: Callable[[Any], Client], tester_user: Any) -> None:
    for url in _get_pages(tester_user):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_an_admin_opens_every_page_and_sees_admin_in_the_top_navigation(admin_client: Client, tester_user: Any) -> None:
    for url in _get_pages(tester_user):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert f'href="{reverse("studio:admin-home")}"' in response.content.decode()


def test_the_top_navigation_hides_admin_from_other_roles(editor_client: Client) -> None:
    html = editor_client.get(reverse("studio:agent-list")).content.decode()
    assert reverse("studio:admin-home") not in html


# ---------------------------------------------------------------------------------------------------- users


def test_the_user_list_searches_filters_by_role_and_answers_htmx_with_the_table(
    admin_client: Client, tester_user: Any, editor_user: Any
) -> None:
    page = admin_client.get(reverse("studio:admin-user-list"))
    assert "tester" in page.content.decode() and "editor" in page.content.decode()

    fragment = admin_client.get(reverse("studio:admin-user-list"), {"q": "test"}, **HX)
    by_role = admin_client.get(reverse("studio:admin-user-list"), {"role": "editor"}, **HX).content.decode()

    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="user-table"' in html
    assert f'id="user-{tester_user.pk}"' in html and f'id="user-{editor_user.pk}"' not in html
    assert f'id="user-{editor_user.pk}"' in by_role and f'id="user-{tester_user.pk}"' not in by_role


def test_the_user_list_is_paginated(admin_client: Client) -> None:
    for number in range(55):
        make_user(f"bulk{number:02d}")
    html = admin_client.get(reverse("studio:admin-user-list")).content.decode()
    assert "Page 1 of 2" in html


def test_an_admin_creates_a_user_with_roles(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("studio:admin-user-create"),
        {
            "username": "grace",
            "email": "grace@example.org",
            "password": "a long pass phrase 42",
            "roles": ["editor", "tester"],
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("studio:admin-user-list")
    grace = get_user_model().objects.get(username="grace")
    assert grace.check_password("a long pass phrase 42") and grace.is_active
    assert user_roles(grace) == {"editor", "tester"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "<script>", "password": "a long pass phrase 42"}, "username", "Enter a valid username"),
        ({"username": "tester", "password": "a long pass phrase 42"}, "username", "already exists"),
        ({"username": "new", "password": ""}, "password", "This field is required"),
        ({"username": "new", "password": "pw", "roles": ["root"]}, "roles", "not one of the available choices"),
    ],
)
def test_an_invalid_new_user_is_refused_beside_the_field(
    admin_client: Client, tester_user: Any, data: dict[str, Any], field: str, message: str
) -> None:
    before = get_user_model().objects.count()
    response = admin_client.post(reverse("studio:admin-user-create"), data, **HX)
    html = response.content.decode()
    assert response.status_code in (409, 422) and "<html" not in html
    beside = html.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]
    assert message in beside
    assert get_user_model().objects.count() == before


def test_a_password_the_validators_refuse_is_shown_beside_the_password(admin_client: Client, settings: Any) -> None:
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}}
    ]
    response = admin_client.post(reverse("studio:admin-user-create"), {"username": "short", "password": "abc"})
    beside = response.content.decode().split('id="field-password"', 1)[1].split('id="field-', 1)[0]
    assert response.status_code == 422 and "too short" in beside
    assert not get_user_model().objects.filter(username="short").exists()


def test_an_admin_changes_roles_and_deactivates_a_user_whose_keys_stop_working(
    admin_client: Client, tester_user: Any
) -> None:
    _key, raw = api_key_create(user=tester_user, name="ci", role="tester")
    url = reverse("studio:admin-user-update", args=[tester_user.pk])
    form = admin_client.get(url).content.decode()
    assert 'value="tester"' in form and "ci" in form  # the user's roles and keys

    response = admin_client.post(url, {"roles": ["operator"]})  # is_active unticked

    assert response.status_code == 302
    changed = get_user_model().objects.get(pk=tester_user.pk)
    assert not changed.is_active
    changed.is_active = True
    assert user_roles(changed) == {"operator"}
    assert api_key_authenticate(raw) is None


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(
    client_for: Callable[[Any], Client],
) -> None:
    admin = make_user("plain-admin", "admin")  # not a superuser: the admin group is their only way in
    client = client_for(admin)
    url = reverse("studio:admin-user-update", args=[admin.pk])

    demoted = client.post(url, {"roles": ["editor"], "is_active": "on"})
    deactivated = client.post(url, {"roles": ["admin"]}, **HX)

    assert demoted.status_code == 422
    assert "You cannot remove your own admin role" in demoted.content.decode().split('id="field-roles"', 1)[1]
    assert deactivated.status_code == 422 and "You cannot deactivate yourself" in deactivated.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and "admin" in user_roles(admin)


def test_an_unknown_user_is_a_404(admin_client: Client) -> None:
    assert admin_client.get(reverse("studio:admin-user-update", args=[987654])).status_code == 404


# ------------------------------------------------------------------------------------------------- API keys


def test_the_key_list_shows_owner_role_prefix_and_use_and_never_the_secret(
    admin_client: Client, key: ApiKey, tester_user: Any
) -> None:
    response = admin_client.get(reverse("studio:admin-key-list"))
    html = response.content.decode()
    assert "Tester&#x27;s CI" in html and f"dec_{key.prefix}_" in html and "never" in html
    assert reverse("studio:admin-user-update", args=[tester_user.pk]) in html
    assert not KEY.search(html) and key.key_hash not in html


def test_the_key_list_filters_and_answers_htmx_with_the_table(
    admin_client: Client, key: ApiKey, editor_user: Any
) -> None:
    other = api_key_create(user=editor_user, name="Editor's", role="editor")[0]
    response = admin_client.get(reverse("studio:admin-key-list"), {"q": "editor"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="key-{other.pk}"' in html and f'id="key-{key.pk}"' not in html


def test_an_admin_creates_a_key_for_a_user_and_sees_it_exactly_once(
    admin_client: Client, admin_user: Any, tester_user: Any
) -> None:
    assert admin_client.get(reverse("studio:admin-key-create"), {"user": tester_user.pk}).status_code == 200

    response = admin_client.post(
        reverse("studio:admin-key-create"), {"name": "Nightly run", "user": tester_user.pk, "role": "tester"}
    )

    html = response.content.decode()
    shown = KEY.findall(html)
    assert response.status_code == 200 and len(set(shown)) == 1
    assert response["Cache-Control"] == "no-store" and "data-copy-from" in html
    key = ApiKey.objects.get(name="Nightly run")
    assert (key.user, key.role, key.created_by) == (tester_user, "tester", admin_user)
    authenticated = api_key_authenticate(shown[0])
    assert authenticated is not None and authenticated.pk == key.pk
    for url in (reverse("studio:admin-key-list"), reverse("studio:admin-user-update", args=[tester_user.pk])):
        assert shown[0] not in admin_client.get(url).content.decode()


def test_a_key_cannot_have_a_role_its_owner_does_not_hold(admin_client: Client, tester_user: Any) -> None:
    response = admin_client.post(
        reverse("studio:admin-key-create"), {"name": "Too strong", "user": tester_user.pk, "role": "admin"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "does not hold the admin role" in html.split('id="field-role"', 1)[1].split('id="field-', 1)[0]
    assert not KEY.search(html) and not ApiKey.objects.exists()


def test_a_key_needs_a_name_and_an_active_owner(admin_client: Client, tester_user: Any) -> None:
    gone = make_user("gone", "tester", is_active=False)
    response = admin_client.post(
        reverse("studio:admin-key-create"), {"name": "", "user": gone.pk, "role": "tester"}, **HX
    )
    html = response.content.decode()
    assert response.status_code == 422 and "<html" not in html
    assert "This field is required" in html.split('id="field-name"', 1)[1].split('id="field-', 1)[0]
    assert "Select a valid choice" in html.split('id="field-user"', 1)[1].split('id="field-', 1)[0]
    assert not ApiKey.objects.exists()


def test_an_admin_revokes_a_key_and_it_stops_working(admin_client: Client, tester_user: Any) -> None:
    key, raw = api_key_create(user=tester_user, name="ci", role="tester")

    response = admin_client.post(reverse("studio:admin-key-revoke", args=[key.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("studio:admin-key-list")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert api_key_authenticate(raw) is None


def test_revoking_over_htmx_answers_the_revoked_row(admin_client: Client, key: ApiKey) -> None:
    response = admin_client.post(reverse("studio:admin-key-revoke", args=[key.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="key-{key.pk}"' in html and "revoked" in html


def test_revoking_needs_a_post_and_an_existing_key(admin_client: Client, key: ApiKey) -> None:
    assert admin_client.get(reverse("studio:admin-key-revoke", args=[key.pk])).status_code == 405
    assert admin_client.post(reverse("studio:admin-key-revoke", args=[987654])).status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_user_and_key_names_are_shown_as_text(admin_client: Client, admin_user: Any, hostile: str) -> None:
    owner = make_user("owner", "tester", first_name=hostile, email="o@example.org")
    api_key_create(user=owner, name=hostile[:100], role="tester", created_by=admin_user)
    for url in (
        reverse("studio:admin-home"),
        reverse("studio:admin-user-list"),
        reverse("studio:admin-user-update", args=[owner.pk]),
        reverse("studio:admin-key-list"),
    ):
        assert_shown_as_text(admin_client.get(url).content.decode(), hostile)
    created = admin_client.post(
        reverse("studio:admin-key-create"), {"name": hostile, "user": owner.pk, "role": "tester"}
    )
    assert_shown_as_text(created.content.decode(), hostile)
