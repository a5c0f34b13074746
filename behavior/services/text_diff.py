"""Word-level differences between two texts, and the display rows the studio shows for a version diff or an
audit entry (field, before, after, and the word diff when both sides are texts). Pure Python (difflib)."""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any, Literal

Op = Literal["equal", "insert", "delete"]
Segment = tuple[Op, str]

# Words, runs of whitespace and single punctuation marks: joining the tokens gives the text back.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
MAX_DIFF_TOKENS = 6000  # beyond this, a text is shown as replaced whole (difflib is quadratic at worst)
SHOWN_VALUE_MAX_CHARS = 20_000
MAX_CHANGED_ENTITIES_SHOWN = 200


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _merged(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def text_diff(old: str, new: str) -> list[Segment]:
    """The word-level diff of `old` -> `new` as (op, text) segments, op one of equal/insert/delete.

    Joining the equal and delete segments gives `old`; joining equal and insert gives `new`. A replaced
    stretch is one delete followed by one insert.
    """
    if old == new:
        return [("equal", old)] if old else []
    old_tokens, new_tokens = _tokens(old), _tokens(new)
    if len(old_tokens) > MAX_DIFF_TOKENS or len(new_tokens) > MAX_DIFF_TOKENS:
        return _merged([("delete", old), ("insert", new)])
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    segments: list[Segment] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed, added = "".join(old_tokens[old_start:old_end]), "".join(new_tokens[new_start:new_end])
        if tag == "equal":
            segments.append(("equal", removed))
        else:
            segments.append(("delete", removed))
            segments.append(("insert", added))
    return _merged(segments)


def shown_text(value: Any) -> str | None:
    """A stored value as the text the studio shows: texts as they are, other values as compact JSON, None as None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > SHOWN_VALUE_MAX_CHARS:
        return text[:SHOWN_VALUE_MAX_CHARS] + "…"
    return text


def field_change(field: str, old: Any, new: Any) -> dict[str, Any]:
    """One changed field for display: {field, old, new (as texts or None), segments (word diff, or [])}."""
    old_text, new_text = shown_text(old), shown_text(new)
    segments = text_diff(old_text, new_text) if old_text is not None and new_text is not None else []
    return {"field": field, "old": old_text, "new": new_text, "segments": segments}


KIND_LABELS = {
    "agent": "Agent settings",
    "tags": "Tags",
    "guidelines": "Guidelines",
    "relationships": "Relationships",
    "journeys": "Journeys",
    "glossary": "Glossary terms",
    "context_variables": "Context variables",
    "canned_responses": "Canned responses",
    "tool_services": "Tool services",
    "tools": "Tools",
}


def diff_for_display(diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """version_diff's result with a label per kind and each changed field as a field_change row (at most
    MAX_CHANGED_ENTITIES_SHOWN changed entities per kind; `more` says how many were left out)."""
    kinds = []
    for kind in diff:
        changed = kind.get("changed") or []
        kinds.append(
            {
                "kind": kind.get("kind", ""),
                "label": KIND_LABELS.get(str(kind.get("kind")), str(kind.get("kind", "")).replace("_", " ")),
                "added": list(kind.get("added") or []),
                "removed": list(kind.get("removed") or []),
                "changed": [
                    {
                        "key": entry.get("key", ""),
                        "changes": [
                            field_change(str(change.get("field", "")), change.get("old"), change.get("new"))
                            for change in entry.get("changes") or []
                        ],
                    }
                    for entry in changed[:MAX_CHANGED_ENTITIES_SHOWN]
                ],
                "more": max(0, len(changed) - MAX_CHANGED_ENTITIES_SHOWN),
            }
        )
    return kinds


def diff_count(diff: list[dict[str, Any]]) -> int:
    """How many entities a version_diff adds, changes or removes."""
    return sum(
        len(kind.get("added") or []) + len(kind.get("removed") or []) + len(kind.get("changed") or []) for kind in diff
    )
