"""Identified widget customers: HMAC and HS256 JWT signatures with the agent's identity secret, constant-time
comparisons, enforcement, and an identity change never showing the previous customer's conversations."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from agents.models import Agent, WidgetKey
from agents.widget_keys import widget_key_update, widget_secret_rotate
from sessions.models import WidgetVisitor
from sessions.widget.identity import identity_signature_valid
from tests.support.widget import (
    WidgetClient,
    hmac_token,
    in_seconds,
    jwt_token,
    published,
    scripted_turns,
    widget_key_for,
)

pytestmark = pytest.mark.django_db

ALICE = "customer-alice"


@pytest.fixture
def key(agent: Agent) -> WidgetKey:
    return widget_key_for(published(agent))


@pytest.fixture
def widget(key: WidgetKey) -> WidgetClient:
    return WidgetClient(key)


def identify(widget: WidgetClient, token: str | None, external_id: str = ALICE, **extra: Any) -> Any:
    """POST /visitor with an identity; the widget keeps the token it answers (as decorum.js does)."""
    identity = {"externalId": external_id, "name": "Alice", "email": "alice@example.com", "token": token, **extra}
    response = widget.post("visitor", {"identity": identity})
    if response.status_code == 200:
        widget.token = response.json()["token"]
    return response


def refused_as_identity_invalid(response: Any) -> bool:
    return bool(response.status_code == 401 and response.json()["code"] == "identity_invalid")


# ---------------------------------------------------------------- HMAC


def test_a_right_hmac_makes_a_verified_visitor(widget: WidgetClient, key: WidgetKey) -> None:
    response = identify(widget, hmac_token(key.identity_secret, ALICE))
    assert response.status_code == 200
    assert response.json()["visitor"] == {"identified": True, "verified": True, "name": "Alice"}
    assert WidgetVisitor.objects.get(external_id=ALICE).verified


def test_an_uppercase_hex_hmac_is_accepted(widget: WidgetClient, key: WidgetKey) -> None:
    assert identify(widget, hmac_token(key.identity_secret, ALICE).upper()).status_code == 200


def test_an_hmac_of_another_external_id_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    assert refused_as_identity_invalid(identify(widget, hmac_token(key.identity_secret, "customer-bob")))


def test_an_hmac_made_with_another_secret_is_refused(widget: WidgetClient) -> None:
    assert refused_as_identity_invalid(identify(widget, hmac_token("not-the-secret", ALICE)))


def test_an_hmac_made_with_the_secret_before_its_rotation_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    old = key.identity_secret
    widget_secret_rotate(key)
    assert refused_as_identity_invalid(identify(widget, hmac_token(old, ALICE)))


def test_a_refused_identity_creates_no_visitor(widget: WidgetClient) -> None:
    identify(widget, hmac_token("not-the-secret", ALICE))
    assert not WidgetVisitor.objects.filter(external_id=ALICE).exists()


def test_the_hmac_is_compared_with_compare_digest(key: WidgetKey, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(left: Any, right: Any) -> bool:
        calls.append((left, right))
        return real(left, right)

    monkeypatch.setattr("sessions.widget.identity.hmac.compare_digest", spy)
    assert identity_signature_valid(
        secret=key.identity_secret, external_id=ALICE, signature=hmac_token(key.identity_secret, ALICE)
    )
    assert calls == [(hmac_token(key.identity_secret, ALICE), hmac_token(key.identity_secret, ALICE))]


def test_the_jwt_signature_and_subject_are_compared_with_compare_digest(
    key: WidgetKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest
    monkeypatch.setattr("sessions.widget.identity.hmac.compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    token = jwt_token(key.identity_secret, {"sub": ALICE, "exp": in_seconds(600)})
    assert identity_signature_valid(secret=key.identity_secret, external_id=ALICE, signature=token)
    assert len(calls) == 2
    assert (ALICE.encode(), ALICE.encode()) in calls


# ---------------------------------------------------------------- JWT


def test_a_valid_jwt_makes_a_verified_visitor(widget: WidgetClient, key: WidgetKey) -> None:
    token = jwt_token(key.identity_secret, {"sub": ALICE, "exp": in_seconds(600)})
    response = identify(widget, token)
    assert response.status_code == 200
    assert response.json()["visitor"]["verified"] is True


def test_an_expired_jwt_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    token = jwt_token(key.identity_secret, {"sub": ALICE, "exp": in_seconds(-120)})
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_jwt_that_expired_within_the_leeway_is_accepted(widget: WidgetClient, key: WidgetKey) -> None:
    token = jwt_token(key.identity_secret, {"sub": ALICE, "exp": in_seconds(-10)})
    assert identify(widget, token).status_code == 200


def test_a_jwt_signed_with_another_secret_is_refused(widget: WidgetClient) -> None:
    token = jwt_token("not-the-secret", {"sub": ALICE, "exp": in_seconds(600)})
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_jwt_with_alg_none_is_refused(widget: WidgetClient) -> None:
    token = jwt_token("", {"sub": ALICE, "exp": in_seconds(600)}, alg="none", signature=b"")
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_jwt_with_another_algorithm_is_refused_even_when_signed_with_the_secret(
    widget: WidgetClient, key: WidgetKey
) -> None:
    import hashlib

    claims = {"sub": ALICE, "exp": in_seconds(600)}
    base = jwt_token(key.identity_secret, claims, alg="HS512", signature=b"x")
    signing_input = base.rsplit(".", 1)[0].encode()
    digest = hmac.new(key.identity_secret.encode(), signing_input, hashlib.sha256).digest()
    token = jwt_token(key.identity_secret, claims, alg="HS512", signature=digest)
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_jwt_without_exp_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    assert refused_as_identity_invalid(identify(widget, jwt_token(key.identity_secret, {"sub": ALICE})))


def test_a_jwt_expiring_more_than_a_day_ahead_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    token = jwt_token(key.identity_secret, {"sub": ALICE, "exp": in_seconds(25 * 3600)})
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_jwt_for_another_subject_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    token = jwt_token(key.identity_secret, {"sub": "customer-bob", "exp": in_seconds(600)})
    assert refused_as_identity_invalid(identify(widget, token))


def test_a_malformed_jwt_is_refused(widget: WidgetClient) -> None:
    assert refused_as_identity_invalid(identify(widget, "abc.!!!.def"))


# ---------------------------------------------------------------- enforcement


def test_with_enforce_on_an_unsigned_identity_is_refused(widget: WidgetClient, key: WidgetKey) -> None:
    widget_key_update(key, allowed_origins=key.allowed_origins, enforce_identity=True, enabled=True)
    assert refused_as_identity_invalid(identify(widget, None))


def test_with_enforce_on_a_signed_identity_is_accepted(widget: WidgetClient, key: WidgetKey) -> None:
    widget_key_update(key, allowed_origins=key.allowed_origins, enforce_identity=True, enabled=True)
    assert identify(widget, hmac_token(key.identity_secret, ALICE)).status_code == 200


def test_with_enforce_off_an_unsigned_identity_is_accepted_unverified(widget: WidgetClient) -> None:
    response = identify(widget, None)
    assert response.status_code == 200
    assert response.json()["visitor"] == {"identified": True, "verified": False, "name": "Alice"}


def test_with_enforce_off_a_wrong_signature_is_still_refused(widget: WidgetClient) -> None:
    assert refused_as_identity_invalid(identify(widget, hmac_token("not-the-secret", ALICE)))


def test_an_unsigned_claim_can_never_open_a_visitor_that_was_verified(widget: WidgetClient, key: WidgetKey) -> None:
    identify(widget, hmac_token(key.identity_secret, ALICE))
    widget.open_session()
    impostor = WidgetClient(key)
    response = identify(impostor, None)
    assert refused_as_identity_invalid(response)
    assert "token" not in response.json()


def test_a_verified_identity_upgrades_an_unverified_visitor(widget: WidgetClient, key: WidgetKey) -> None:
    identify(widget, None)
    identify(widget, hmac_token(key.identity_secret, ALICE))
    assert WidgetVisitor.objects.get(external_id=ALICE).verified


# ---------------------------------------------------------------- identity switch


@pytest.mark.django_db(transaction=True)  # the events long-poll reads the database from another thread
def test_an_identity_switch_never_shows_the_previous_customers_conversations(
    widget: WidgetClient, key: WidgetKey, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_turns(settings, monkeypatch)
    identify(widget, hmac_token(key.identity_secret, ALICE))
    alice_session = widget.open_session()
    widget.post(f"sessions/{alice_session['uid']}/messages", {"text": "my card number is private"})

    response = identify(
        widget, hmac_token(key.identity_secret, "customer-bob"), "customer-bob", name="Bob"
    )  # sent with Alice's token
    assert response.status_code == 200, response.content
    assert response.json()["session"] is None
    assert widget.get(f"sessions/{alice_session['uid']}/").status_code == 404
    assert widget.get(f"sessions/{alice_session['uid']}/events?after=0").status_code == 404
    assert widget.open_session()["uid"] != alice_session["uid"]


def test_an_anonymous_visitor_who_identifies_becomes_another_visitor(widget: WidgetClient, key: WidgetKey) -> None:
    widget.start()
    anonymous_session = widget.open_session()
    response = identify(widget, hmac_token(key.identity_secret, ALICE))
    assert response.json()["session"] is None
    assert widget.get(f"sessions/{anonymous_session['uid']}/").status_code == 404


def test_the_same_identity_in_a_new_browser_finds_its_open_conversation(widget: WidgetClient, key: WidgetKey) -> None:
    identify(widget, hmac_token(key.identity_secret, ALICE))
    opened = widget.open_session()
    elsewhere = WidgetClient(key)
    response = identify(elsewhere, hmac_token(key.identity_secret, ALICE))
    assert response.json()["session"]["uid"] == opened["uid"]


@pytest.mark.parametrize(
    ("identity", "path"),
    [
        ({"externalId": ""}, "identity.externalId"),
        ({"externalId": "x" * 201}, "identity.externalId"),
        ({"externalId": "a", "email": "not an address"}, "identity.email"),
        ({"externalId": "a", "name": 42}, "identity"),
        ("alice", "identity"),
    ],
)
def test_a_malformed_identity_is_refused_naming_the_field(widget: WidgetClient, identity: Any, path: str) -> None:
    response = widget.post("visitor", {"identity": identity})
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == path
