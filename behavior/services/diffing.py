"""What changed between two behavior documents, entity by entity and field by field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Sections of the document, each with how an entry is identified.
_SECTIONS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("tags", lambda entry: entry["name"]),
    ("guidelines", lambda entry: entry["key"]),
    (
        "relationships",
        lambda entry: (
            f"{entry['source']['type']}:{entry['source']['ref']} {entry['kind']} "
            f"{entry['target']['type']}:{entry['target']['ref']}"
        ),
    ),
    ("journeys", lambda entry: entry["key"]),
    ("glossary", lambda entry: entry["name"]),
    ("context_variables", lambda entry: entry["name"]),
    ("canned_responses", lambda entry: entry["key"]),
    ("tool_services", lambda entry: entry["name"]),
    ("tools", lambda entry: entry["name"]),
)

# Nested lists whose items have an identity: compared item by item instead of as one value.
_NESTED: dict[str, Callable[[dict[str, Any]], str]] = {
    "states": lambda item: item["key"],
    "transitions": lambda item: f"{item['source']}->{item['target']}",
    "values": lambda item: item["scope"] if item.get("key") is None else f"{item['scope']}:{item['key']}",
    "parameters": lambda item: item["name"],
    "fields": lambda item: item["name"],
}


def _keyed(items: list[Any], identity: Callable[[dict[str, Any]], str]) -> dict[str, Any] | None:
    """Items by identity, or None when they cannot be keyed uniquely (then the list is compared whole)."""
    if not all(isinstance(item, dict) for item in items):
        return None
    try:
        keyed = {identity(item): item for item in items}
    except (KeyError, TypeError):
        return None
    return keyed if len(keyed) == len(items) else None


def _field_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for field in dict.fromkeys([*old, *new]):
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        path = f"{prefix}{field}"
        identity = _NESTED.get(field)
        if identity is not None and isinstance(before, list) and isinstance(after, list):
            old_items, new_items = _keyed(before, identity), _keyed(after, identity)
            if old_items is not None and new_items is not None:
                for item_key in dict.fromkeys([*old_items, *new_items]):
                    item_path = f"{path}[{item_key}]"
                    if item_key not in new_items:
                        changes.append({"field": item_path, "old": old_items[item_key], "new": None})
                    elif item_key not in old_items:
                        changes.append({"field": item_path, "old": None, "new": new_items[item_key]})
                    elif old_items[item_key] != new_items[item_key]:
                        changes.extend(_field_changes(old_items[item_key], new_items[item_key], f"{item_path}."))
                order_before = [key for key in old_items if key in new_items]
                order_after = [key for key in new_items if key in old_items]
                if order_before != order_after:
                    changes.append({"field": f"{path}.order", "old": order_before, "new": order_after})
                continue
        changes.append({"field": path, "old": before, "new": after})
    return changes


def version_diff(old_document: dict[str, Any], new_document: dict[str, Any]) -> list[dict[str, Any]]:
    """Differences between two documents, one entry per entity kind that changed:

    {"kind": "guidelines", "added": [keys], "removed": [keys],
     "changed": [{"key": key, "changes": [{"field": "condition", "old": ..., "new": ...}]}]}

    Kind "agent" covers the agent's settings (its one key is the agent's name in the new document).
    Nested lists are compared item by item: a field reads like `states[lookup].action`.
    """
    result: list[dict[str, Any]] = []
    old_agent, new_agent = old_document.get("agent") or {}, new_document.get("agent") or {}
    agent_changes = _field_changes(old_agent, new_agent)
    if agent_changes:
        name = new_agent.get("name") or old_agent.get("name") or ""
        result.append(
            {"kind": "agent", "added": [], "removed": [], "changed": [{"key": name, "changes": agent_changes}]}
        )
    for section, identity in _SECTIONS:
        old_entries = {identity(entry): entry for entry in old_document.get(section) or []}
        new_entries = {identity(entry): entry for entry in new_document.get(section) or []}
        added = sorted(key for key in new_entries if key not in old_entries)
        removed = sorted(key for key in old_entries if key not in new_entries)
        changed = [
            {"key": key, "changes": _field_changes(old_entries[key], new_entries[key])}
            for key in sorted(new_entries)
            if key in old_entries and old_entries[key] != new_entries[key]
        ]
        if added or removed or changed:
            result.append({"kind": section, "added": added, "removed": removed, "changed": changed})
    return result
