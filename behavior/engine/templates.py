"""Canned-response templates: `{{ field }}` placeholders (built-ins customer.name, customer.id,
agent.name; declared tool, variable and generative fields) and their rendering."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from behavior.engine.prompts.sections import one_line

_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
MAX_FIELD_CHARS = 500


def template_fields(template: str) -> list[str]:
    return list(dict.fromkeys(_FIELD.findall(template)))


def template_render(template: str, values: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """(text, missing fields). The text is None when any field has no value: a canned response is
    only ever sent complete."""
    missing = [name for name in template_fields(template) if _value(values.get(name)) is None]
    if missing:
        return None, missing
    return _FIELD.sub(lambda m: _value(values.get(m.group(1))) or "", template), []


def _value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = one_line(str(value), MAX_FIELD_CHARS)
    return text or None
