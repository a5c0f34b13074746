"""Roles: admin, editor (behavior), tester (sandbox), operator (handoff inbox). A role is a Group of that
name; superusers and members of `admin` hold every role."""

from __future__ import annotations

from typing import Any

from django.db import models

from config.errors import PermissionDenied


class Role(models.TextChoices):
    ADMIN = "admin"
    EDITOR = "editor"
    TESTER = "tester"
    OPERATOR = "operator"


ALL_ROLES: frozenset[str] = frozenset(Role.values)


def user_roles(user: Any) -> set[str]:
    """The roles a user holds: none when anonymous or inactive; all for superusers and admins."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return set()
    if user.is_superuser:
        return set(ALL_ROLES)
    roles = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
    return set(ALL_ROLES) if Role.ADMIN in roles else roles


def user_has_role(user: Any, *roles: str) -> bool:
    """True when the user holds at least one of `roles`."""
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"Unknown role(s): {', '.join(sorted(unknown))}")
    return bool(user_roles(user) & set(roles))


def require_role(user: Any, *roles: str) -> None:
    """Raise PermissionDenied unless the user holds one of `roles`."""
    if not user_has_role(user, *roles):
        needed = " or ".join(sorted(roles))
        raise PermissionDenied(f"This needs the {needed} role.", details={"roles": sorted(roles)})
