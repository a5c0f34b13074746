"""Agent-level state changes: API keys (created once, stored hashed, revocable)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import ApiKey, ApiKeyRole

API_KEY_PATTERN = re.compile(r"^dec_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})\Z")
API_KEY_MAX_LENGTH = 120


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, name: str, role: str, created_by: Any = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext `dec_<prefix>_<secret>`, which is never stored or shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("An API key needs a name of 1 to 100 characters.")
    if role not in ApiKeyRole.values:
        raise ValueError(f"Unknown role {role!r} (use {', '.join(ApiKeyRole.values)}).")
    for _attempt in range(5):  # the 8-hex prefix is unique; retry the rare collision
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    else:
        raise RuntimeError("Could not allocate a unique API key prefix.")
    raw = f"dec_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(raw),
            role=role,
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )
    return key, raw


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key matching `raw`, or None. Compares hashes in constant time and records the use."""
    if not isinstance(raw, str) or len(raw) > API_KEY_MAX_LENGTH:
        return None
    match = API_KEY_PATTERN.match(raw.strip())
    if match is None:
        return None
    key = ApiKey.objects.filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.key_hash, api_key_hash(raw.strip())):
        return None
    if key.revoked_at is not None:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return key


def api_key_revoke(key: ApiKey) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key
