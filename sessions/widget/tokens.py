"""Customer tokens: what a browser holds for one widget visitor. Signed by the server (never stored), they name
the visitor, the agent and the widget key's generation, and expire after WIDGET_TOKEN_MAX_AGE_SECONDS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from agents.models import WidgetKey
from config.errors import Unauthorized

SALT = "decorum.widget.customer"
TOKEN_MAX_CHARS = 1000


@dataclass(frozen=True)
class TokenClaims:
    visitor_uid: str
    agent_id: int
    generation: int


def token_issue(*, visitor_uid: str, key: WidgetKey) -> tuple[str, datetime]:
    """A fresh token for the visitor and when it expires."""
    token = signing.dumps({"v": str(visitor_uid), "a": key.agent_id, "g": key.generation}, salt=SALT, compress=True)
    return token, timezone.now() + timedelta(seconds=int(settings.WIDGET_TOKEN_MAX_AGE_SECONDS))


def token_read(token: str, *, key: WidgetKey) -> TokenClaims:
    """The claims of a token issued under this key; Unauthorized (code token_invalid) when it is forged, expired,
    for another agent or from before the key was rotated."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        raise Unauthorized("The customer token is missing.", code="token_invalid")
    try:
        data = signing.loads(token, salt=SALT, max_age=int(settings.WIDGET_TOKEN_MAX_AGE_SECONDS))
    except signing.SignatureExpired:
        raise Unauthorized("The customer token has expired; start again.", code="token_invalid") from None
    except signing.BadSignature:
        raise Unauthorized("The customer token is not valid.", code="token_invalid") from None
    if not isinstance(data, dict) or data.get("a") != key.agent_id or data.get("g") != key.generation:
        raise Unauthorized("The customer token belongs to another key; start again.", code="token_invalid")
    return TokenClaims(visitor_uid=str(data.get("v")), agent_id=int(data["a"]), generation=int(data["g"]))
