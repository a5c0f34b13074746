"""Webhook signatures: HMAC-SHA256 over `timestamp.body` under the endpoint's secret. The timestamp travels in its
own header, so a receiver refuses a replayed delivery by its age (docs/widget.md, "Webhooks")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_VERSION = "v1"
TOLERANCE_SECONDS = 300


def body_bytes(payload: Any) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def signature_compute(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(*, secret: str, body: bytes, event_type: str, delivery_uid: str, now: float | None = None) -> dict:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Decorum-Webhooks/1",
        "X-Decorum-Event": event_type,
        "X-Decorum-Delivery": delivery_uid,
        "X-Decorum-Timestamp": str(timestamp),
        "X-Decorum-Signature": signature_compute(secret, timestamp, body),
    }


def signature_verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches (constant time) and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature_compute(secret, sent, body), signature or "")
