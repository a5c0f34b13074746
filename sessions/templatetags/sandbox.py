"""Template filters of the sandbox pages: pretty JSON previews, durations and scores (site-wide ones are in
config/templatetags.py, loaded as `decorum`)."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

JSON_PREVIEW_MAX_CHARS = 6000


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON text (the template escapes it), shortened for very large values."""
    if value is None or value == "":
        return ""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= JSON_PREVIEW_MAX_CHARS else text[:JSON_PREVIEW_MAX_CHARS] + "\n…"


@register.filter
def ms(value: Any) -> str:
    """Milliseconds for humans: 850 ms, 1.24 s."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


@register.filter
def score(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:.2f}"
