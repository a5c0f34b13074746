"""The widget's gate: keys, origins, CORS, customer tokens and rate limits on the public HTTP endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.test import Client

from agents.models import Agent, WidgetKey
from agents.widget_keys import origin_normalize, widget_key_rotate, widget_key_update, widget_secret_rotate
from behavior.models import AuditEntry
from config.errors import ValidationFailed
from sessions.widget.tokens import SALT
from tests.support.widget import OTHER_SITE, SITE, WidgetClient, published, widget_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agent: Agent) -> WidgetKey:
    return widget_key_for(published(agent))


@pytest.fixture
def widget(key: WidgetKey) -> WidgetClient:
    return WidgetClient(key)


# ---------------------------------------------------------------- origins


def test_an_allowed_origin_gets_an_answer_with_cors_headers_for_it(widget: WidgetClient) -> None:
    response = widget.post("visitor", {"identity": None})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "X-Decorum-Key" in response["Access-Control-Allow-Headers"]


def test_another_origin_is_refused_with_403_and_no_cors_headers(key: WidgetKey) -> None:
    response = WidgetClient(key, origin=OTHER_SITE).post("visitor", {"identity": None})
    assert response.status_code == 403
    assert response.json()["code"] == "origin_refused"
    assert "Access-Control-Allow-Origin" not in response


def test_an_origin_that_only_starts_like_an_allowed_one_is_refused(key: WidgetKey) -> None:
    response = WidgetClient(key, origin=SITE + ".evil.net").post("visitor", {"identity": None})
    assert response.status_code == 403


def test_a_request_without_origin_is_refused(key: WidgetKey) -> None:
    response = WidgetClient(key, origin=None).post("visitor", {"identity": None})
    assert response.status_code == 403
    assert response.json()["code"] == "origin_refused"


def test_a_same_origin_browser_get_without_origin_counts_as_the_servers_own_origin(agent: Agent) -> None:
    key = widget_key_for(published(agent), origins=["http://testserver"])
    widget = WidgetClient(key, origin="http://testserver")
    widget.start()
    session = widget.open_session()
    response = widget.client.get(
        f"/widget/v1/sessions/{session['uid']}/",
        headers={
            "X-Decorum-Key": key.public_key,
            "Authorization": f"Bearer {widget.token}",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 200


def test_the_null_origin_of_a_sandboxed_frame_is_refused(key: WidgetKey) -> None:
    response = WidgetClient(key, origin="null").post("visitor", {"identity": None})
    assert response.status_code == 403


def test_a_preflight_from_an_allowed_origin_is_answered_with_cors_headers(key: WidgetKey) -> None:
    response = Client().options("/widget/v1/visitor", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_a_preflight_from_an_unknown_origin_gets_no_cors_headers(key: WidgetKey) -> None:
    response = Client().options("/widget/v1/visitor", headers={"Origin": OTHER_SITE})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_for_a_disabled_key_origin_gets_no_cors_headers(key: WidgetKey) -> None:
    widget_key_update(key, allowed_origins=[SITE], enforce_identity=False, enabled=False)
    response = Client().options("/widget/v1/visitor", headers={"Origin": SITE})
    assert "Access-Control-Allow-Origin" not in response


# ---------------------------------------------------------------- keys


def test_an_unknown_key_answers_401_widget_key_invalid(widget: WidgetClient) -> None:
    response = widget.post("visitor", {"identity": None}, public_key="pk_nobody")
    assert response.status_code == 401
    assert response.json()["code"] == "widget_key_invalid"


def test_a_disabled_key_answers_401(widget: WidgetClient, key: WidgetKey) -> None:
    widget_key_update(key, allowed_origins=[SITE], enforce_identity=False, enabled=False)
    response = widget.post("visitor", {"identity": None})
    assert response.status_code == 401
    assert response.json()["code"] == "widget_key_invalid"


def test_a_rotated_key_answers_401_and_its_tokens_stop_working(widget: WidgetClient, key: WidgetKey) -> None:
    widget.start()
    old_public = key.public_key
    widget_key_rotate(key)
    assert widget.post("visitor", {"identity": None}, public_key=old_public).status_code == 401
    response = widget.post("sessions", public_key=key.public_key)  # the new key, the token of the old generation
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_rotating_the_key_bumps_its_generation_and_records_no_secret_in_the_audit_trail(key: WidgetKey) -> None:
    before = (key.public_key, key.generation, key.identity_secret)
    widget_key_rotate(key)
    widget_secret_rotate(key)
    assert key.generation == before[1] + 1 and key.rotated_at is not None
    assert key.public_key != before[0] and key.public_key.startswith("pk_")
    assert key.identity_secret != before[2]
    trail = str(list(AuditEntry.objects.filter(entity_type="widget_key").values_list("changes", flat=True)))
    for secret in (*before, key.public_key, key.identity_secret):
        assert str(secret) not in trail or isinstance(secret, int)


# ---------------------------------------------------------------- origins as configured


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_an_origin_is_stored_in_its_canonical_form(text: str, origin: str) -> None:
    assert origin_normalize(text) == origin


@pytest.mark.parametrize(
    "text",
    [
        "https://*.example.com",
        "https://shop.example.com/path",
        "https://shop.example.com?x=1",
        "https://user:pw@shop.example.com",
        "ftp://shop.example.com",
        "javascript:alert(1)",
        "shop.example.com",
        "https://",
        "https://shop.example.com:99999",
    ],
)
def test_anything_but_scheme_host_and_port_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        origin_normalize(text)
    assert caught.value.details[0]["path"] == "allowed_origins"


def test_a_key_allows_at_most_fifty_origins(key: WidgetKey) -> None:
    with pytest.raises(ValidationFailed):
        widget_key_update(
            key,
            allowed_origins=[f"https://site{number}.example.com" for number in range(51)],
            enforce_identity=False,
            enabled=True,
        )


# ---------------------------------------------------------------- customer tokens


def test_a_request_without_a_customer_token_answers_401_token_invalid(widget: WidgetClient) -> None:
    response = widget.post("sessions")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert response["Access-Control-Allow-Origin"] == SITE  # the widget may read why, and start again


def test_a_forged_token_answers_401(widget: WidgetClient) -> None:
    widget.start()
    assert widget.token is not None
    forged = widget.token[:-4] + ("AAAA" if not widget.token.endswith("AAAA") else "BBBB")
    response = widget.post("sessions", token=forged)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_token_signed_with_another_salt_answers_401(widget: WidgetClient, key: WidgetKey) -> None:
    data = widget.start()
    visitor_uid = signing.loads(data["token"], salt=SALT)["v"]
    other = signing.dumps({"v": visitor_uid, "a": key.agent_id, "g": key.generation}, salt="another.purpose")
    assert widget.post("sessions", token=other).status_code == 401


def test_an_expired_token_answers_401(widget: WidgetClient, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    widget.start()
    import time as time_module

    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + settings.WIDGET_TOKEN_MAX_AGE_SECONDS + 60)
    response = widget.post("sessions")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_token_of_another_agents_key_answers_401(widget: WidgetClient, other_agent: Agent) -> None:
    other = WidgetClient(widget_key_for(published(other_agent)))
    other.start()
    response = widget.post("sessions", token=other.token)
    assert response.status_code == 401


def test_a_token_of_another_generation_answers_401(widget: WidgetClient, key: WidgetKey) -> None:
    data = widget.start()
    claims = signing.loads(data["token"], salt=SALT)
    old = signing.dumps({**claims, "g": key.generation - 1}, salt=SALT, compress=True)
    assert widget.post("sessions", token=old).status_code == 401


def test_an_invalid_token_on_visitor_start_is_dropped_and_a_new_visitor_begins(widget: WidgetClient) -> None:
    response = widget.post("visitor", {"identity": None}, token="not-a-token")
    assert response.status_code == 200
    assert response.json()["token"] != "not-a-token"


# ---------------------------------------------------------------- rate limits


def test_requests_over_the_per_address_limit_answer_429_with_the_wait(widget: WidgetClient, settings: Any) -> None:
    settings.WIDGET_REQUESTS_PER_MINUTE_PER_IP = 3
    statuses = [widget.post("visitor", {"identity": None}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = widget.post("visitor", {"identity": None})
    assert response.json()["code"] == "rate_limited"
    assert response.json()["details"]["retry_after_seconds"] >= 1
    assert response["Retry-After"]


def test_the_per_address_limit_counts_refused_requests_too(key: WidgetKey, settings: Any) -> None:
    settings.WIDGET_REQUESTS_PER_MINUTE_PER_IP = 2
    intruder = WidgetClient(key, origin=OTHER_SITE)
    assert [intruder.post("visitor").status_code for _ in range(3)] == [403, 403, 429]


def test_another_address_has_its_own_limit(key: WidgetKey, settings: Any) -> None:
    settings.WIDGET_REQUESTS_PER_MINUTE_PER_IP = 1
    assert WidgetClient(key, address="198.51.100.1").post("visitor").status_code == 200
    assert WidgetClient(key, address="198.51.100.2").post("visitor").status_code == 200


def test_messages_over_the_per_session_limit_answer_429(widget: WidgetClient, settings: Any) -> None:
    settings.WIDGET_MESSAGES_PER_MINUTE_PER_SESSION = 2
    widget.start()
    uid = widget.open_session()["uid"]
    statuses = [widget.post(f"sessions/{uid}/messages", {"text": f"hello {n}"}).status_code for n in range(3)]
    assert statuses == [201, 201, 429]


def test_new_conversations_over_the_hourly_limit_per_address_answer_429(widget: WidgetClient, settings: Any) -> None:
    settings.WIDGET_NEW_SESSIONS_PER_HOUR_PER_IP = 1
    widget.start()
    uid = widget.open_session()["uid"]
    widget.post(f"sessions/{uid}/close")
    response = widget.post("sessions")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
