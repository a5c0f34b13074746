"""Template tags every page may use ({% load decorum %}): role checks and small display helpers."""

from __future__ import annotations

from typing import Any

from django import template

from agents.permissions import user_has_role, user_may_edit_behavior, user_may_open

register = template.Library()


@register.filter
def may_open(user: Any, area: str) -> bool:
    """{% if user|may_open:"sandbox" %}: whether the user's roles open that area."""
    return user_may_open(user, area)


@register.filter
def may_edit_behavior(user: Any) -> bool:
    return user_may_edit_behavior(user)


@register.filter
def has_role(user: Any, role: str) -> bool:
    return user_has_role(user, role)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """mapping[key] for dict keys a template cannot spell (hyphens, leading digits)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def plural(count: Any, words: str) -> str:
    """`3|plural:"change,changes"` -> "3 changes"."""
    singular, _, many = words.partition(",")
    number = int(count or 0)
    return f"{number:,} {singular if number == 1 else (many or singular + 's')}"
