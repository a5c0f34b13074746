"""An agent's website widget key: create, rotate (the public key or the identity secret), update its origins and
switches, and look it up. The audit trail records what changed but never a key or a secret."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, WidgetKey
from behavior.models import AuditAction
from behavior.services.audit import SYSTEM, Actor, audit_record
from behavior.services.rows import invalid
from config.errors import Conflict

PUBLIC_KEY_PREFIX = "pk_"
MAX_ALLOWED_ORIGINS = 50
MAX_ORIGIN_CHARS = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDACTED = "(changed)"


def _new_public_key() -> str:
    return PUBLIC_KEY_PREFIX + secrets.token_urlsafe(24)


def _new_identity_secret() -> str:
    return secrets.token_urlsafe(32)


def origin_normalize(text: str, *, path: str = "allowed_origins") -> str:
    """`scheme://host[:port]` in canonical form (lowercase, default port dropped). ValidationFailed naming
    `path` for anything else: another scheme, a path, a query, a fragment, user info, a wildcard, no host."""
    raw = (text or "").strip()
    shown = raw[:80]
    if not raw:
        raise invalid(path, "An origin cannot be empty.")
    if len(raw) > MAX_ORIGIN_CHARS:
        raise invalid(path, f"An origin has at most {MAX_ORIGIN_CHARS} characters.")
    if "*" in raw:
        raise invalid(path, f"{shown!r}: wildcards are not allowed; list each origin exactly.")
    if any(character.isspace() for character in raw) or "\\" in raw:
        raise invalid(path, f"{shown!r} is not an origin.")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise invalid(path, f"{shown!r} is not an origin (the port is not valid).") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise invalid(path, f"{shown!r}: an origin starts with http:// or https://.")
    if "@" in parts.netloc:
        raise invalid(path, f"{shown!r}: an origin has no user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise invalid(path, f"{shown!r}: an origin is scheme://host[:port], without a path, query or fragment.")
    host = (parts.hostname or "").lower()
    if not host or host.startswith(".") or ".." in host:
        raise invalid(path, f"{shown!r}: an origin names a host.")
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    origin = f"{scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    return origin


def origins_normalize(values: list[str] | str, *, path: str = "allowed_origins") -> list[str]:
    """A list (or text with one origin per line, or comma-separated) normalized, deduplicated, order kept."""
    items = values.replace(",", "\n").splitlines() if isinstance(values, str) else list(values)
    origins: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise invalid(path, "Each origin is a text.")
        if not item.strip():
            continue
        origin = origin_normalize(item, path=path)
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise invalid(path, f"A widget key allows at most {MAX_ALLOWED_ORIGINS} origins.")
    return origins


def _audit(key: WidgetKey, *, actor: Actor, action: str, changes: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        entity_type="widget_key",
        entity_id=key.pk,
        label=f"Widget key of {key.agent.name}",
        agent_id=key.agent_id,
        changes=changes,
    )


@transaction.atomic
def widget_key_create(*, agent: Agent, actor: Actor | None = None) -> WidgetKey:
    """The agent's widget key, new: enabled, no origins yet (so it works nowhere until some are added)."""
    if WidgetKey.objects.filter(agent=agent).exists():
        raise Conflict("This agent already has a widget key; rotate it instead.", code="widget_key_exists")
    key = WidgetKey.objects.create(
        agent=agent, public_key=_new_public_key(), identity_secret=_new_identity_secret(), allowed_origins=[]
    )
    _audit(key, actor=actor or SYSTEM, action=AuditAction.CREATE, changes={"enabled": [None, True]})
    return key


@transaction.atomic
def widget_key_rotate(key: WidgetKey, *, actor: Actor | None = None) -> WidgetKey:
    """A new public key; the generation goes up, which ends every customer token issued under the old one."""
    locked = WidgetKey.objects.select_for_update().get(pk=key.pk)
    locked.public_key = _new_public_key()
    locked.generation = locked.generation + 1
    locked.rotated_at = timezone.now()
    locked.save(update_fields=["public_key", "generation", "rotated_at", "updated_at"])
    _audit(
        locked,
        actor=actor or SYSTEM,
        action=AuditAction.UPDATE,
        changes={"public_key": [_REDACTED, _REDACTED], "generation": [key.generation, locked.generation]},
    )
    _copy_into(key, locked)
    return key


@transaction.atomic
def widget_secret_rotate(key: WidgetKey, *, actor: Actor | None = None) -> WidgetKey:
    """A new identity secret: identities signed with the old one are refused from now on."""
    locked = WidgetKey.objects.select_for_update().get(pk=key.pk)
    locked.identity_secret = _new_identity_secret()
    locked.save(update_fields=["identity_secret", "updated_at"])
    _audit(
        locked,
        actor=actor or SYSTEM,
        action=AuditAction.UPDATE,
        changes={"identity_secret": [_REDACTED, _REDACTED]},
    )
    _copy_into(key, locked)
    return key


@transaction.atomic
def widget_key_update(
    key: WidgetKey,
    *,
    allowed_origins: list[str] | str,
    enforce_identity: bool,
    enabled: bool,
    actor: Actor | None = None,
) -> WidgetKey:
    """Set the origins (normalized; ValidationFailed on `allowed_origins`) and the two switches."""
    origins = origins_normalize(allowed_origins)
    locked = WidgetKey.objects.select_for_update().get(pk=key.pk)
    before = {
        "allowed_origins": list(locked.allowed_origins or []),
        "enforce_identity": locked.enforce_identity,
        "enabled": locked.enabled,
    }
    locked.allowed_origins = origins
    locked.enforce_identity = bool(enforce_identity)
    locked.enabled = bool(enabled)
    locked.save(update_fields=["allowed_origins", "enforce_identity", "enabled", "updated_at"])
    after = {"allowed_origins": origins, "enforce_identity": locked.enforce_identity, "enabled": locked.enabled}
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changes:
        _audit(locked, actor=actor or SYSTEM, action=AuditAction.UPDATE, changes=changes)
    _copy_into(key, locked)
    return key


def _copy_into(key: WidgetKey, stored: WidgetKey) -> None:
    for field in WidgetKey._meta.concrete_fields:
        setattr(key, field.attname, getattr(stored, field.attname))


def widget_key_for_agent(agent: Agent) -> WidgetKey | None:
    return WidgetKey.objects.filter(agent=agent).first()


def widget_key_by_public(public_key: str) -> WidgetKey | None:
    """The enabled key with this public key, its agent loaded; None for an unknown, rotated or disabled key."""
    if not public_key or not public_key.startswith(PUBLIC_KEY_PREFIX) or len(public_key) > 64:
        return None
    return WidgetKey.objects.select_related("agent").filter(public_key=public_key, enabled=True).first()
