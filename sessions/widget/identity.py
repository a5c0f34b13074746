"""Identity verification of widget customers: the site's backend signs the customer's external id with the agent's
identity secret, as an HMAC-SHA256 hex digest or a short-lived HS256 JWT. Every comparison is constant-time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any

from config.errors import Unauthorized

JWT_LEEWAY_SECONDS = 30
JWT_MAX_LIFETIME_SECONDS = 24 * 3600
HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
SIGNATURE_MAX_CHARS = 4000


def hmac_signature(secret: str, external_id: str) -> str:
    """What the site's backend computes: hex(HMAC-SHA256(secret, external_id))."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_signature_valid(*, secret: str, external_id: str, signature: str, now: float | None = None) -> bool:
    """True when `signature` is the HMAC hex digest of the external id, or a valid HS256 JWT whose `sub` is it."""
    if not isinstance(signature, str) or not signature or len(signature) > SIGNATURE_MAX_CHARS:
        return False
    if HEX_DIGEST.match(signature):
        return hmac.compare_digest(hmac_signature(secret, external_id), signature.lower())
    if signature.count(".") == 2:
        return _jwt_valid(secret=secret, external_id=external_id, token=signature, now=now)
    return False


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _jwt_valid(*, secret: str, external_id: str, token: str, now: float | None) -> bool:
    header_part, payload_part, signature_part = token.split(".")
    try:
        header: Any = json.loads(_b64decode(header_part))
        payload: Any = json.loads(_b64decode(payload_part))
        signature = _b64decode(signature_part)
    except (ValueError, binascii.Error):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(payload, dict):
        return False  # "none", RS256 and the rest are refused: the secret is shared, HS256 only
    expected = hmac.new(secret.encode(), f"{header_part}.{payload_part}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return False
    subject = payload.get("sub", payload.get("external_id"))
    if not isinstance(subject, str) or not hmac.compare_digest(subject.encode(), external_id.encode()):
        return False
    expires = payload.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return False  # short-lived means an expiry is required
    current = time.time() if now is None else now
    return current - JWT_LEEWAY_SECONDS <= expires <= current + JWT_MAX_LIFETIME_SECONDS


def identity_check(*, secret: str, external_id: str, signature: str | None, enforce: bool) -> bool:
    """Whether the identity is verified. Unauthorized (identity_invalid) for a wrong signature (always) or a
    missing one when `enforce` is on; False for an unsigned identity the agent accepts unverified."""
    if signature:
        if identity_signature_valid(secret=secret, external_id=external_id, signature=signature):
            return True
        raise Unauthorized("The customer's identity signature is not valid.", code="identity_invalid")
    if enforce:
        raise Unauthorized("This site requires a signed customer identity.", code="identity_invalid")
    return False
