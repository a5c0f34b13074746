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
    cached = getattr(user, "_decorum_roles", None)  # also set by API key authentication, capping a key's owner
    if cached is None and user.is_superuser:
        return set(ALL_ROLES)
    if cached is None:
        # Kept on the user object, which lives for one request: the navigation and every check share one query.
        roles = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        cached = frozenset(ALL_ROLES) if Role.ADMIN in roles else frozenset(roles)
        user._decorum_roles = cached
    return set(cached)


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


class Area(models.TextChoices):
    """The parts of the product a role opens (the navigation shows each to the roles that may use it)."""

    STUDIO = "studio", "Studio"
    SANDBOX = "sandbox", "Sandbox"
    INBOX = "inbox", "Inbox"
    ADMIN = "admin", "Admin"


# Who may open what; admin is implied everywhere (user_roles gives admins every role).
AREA_ROLES: dict[str, tuple[str, ...]] = {
    Area.STUDIO: (Role.EDITOR, Role.TESTER, Role.OPERATOR),  # testers and operators read behavior
    Area.SANDBOX: (Role.TESTER, Role.EDITOR),
    Area.INBOX: (Role.OPERATOR,),
    Area.ADMIN: (Role.ADMIN,),
}
BEHAVIOR_EDIT_ROLES: tuple[str, ...] = (Role.EDITOR,)


def user_may_open(user: Any, area: str) -> bool:
    return user_has_role(user, Role.ADMIN, *AREA_ROLES[area])


def user_may_edit_behavior(user: Any) -> bool:
    """Editors (and admins) change the behavior model; everyone else in the studio reads it."""
    return user_has_role(user, Role.ADMIN, *BEHAVIOR_EDIT_ROLES)


def require_area(user: Any, area: str) -> None:
    """PermissionDenied naming the roles that open `area`, unless the user holds one."""
    if not user_may_open(user, area):
        label = Area(area).label
        roles = " or ".join(sorted({Role.ADMIN.value, *AREA_ROLES[area]}))
        raise PermissionDenied(f"The {label} needs the {roles} role.", details={"area": area})
