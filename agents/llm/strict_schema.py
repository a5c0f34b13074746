"""Pydantic JSON schemas rewritten for OpenAI's strict structured outputs: every object closed
(`additionalProperties: false`) with all its properties required, `$ref` siblings inlined."""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel

# `default` means nothing once every property is required; `discriminator` is OpenAPI, not JSON Schema.
# Other constraints (maxLength, minimum, ...) stay: servers that honour them constrain decoding, and
# pydantic validation of the reply enforces them either way (as the `openai` package's own helper does).
_DROPPED_KEYWORDS = frozenset({"default", "discriminator"})
_SCHEMA_NAME_INVALID = re.compile(r"[^A-Za-z0-9_-]")


class _NotStrictCompatible(Exception):
    """The schema has a construct strict mode cannot express (free-form maps, tuples)."""


def json_schema_name(schema: type[BaseModel]) -> str:
    """The `json_schema.name` OpenAI requires: letters, digits, `_` and `-`, at most 64 characters."""
    return _SCHEMA_NAME_INVALID.sub("_", schema.__name__)[:64] or "reply"


def strict_json_schema(schema: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """The schema to send and whether it can be sent with `strict: true`.

    A model with a free-form `dict` field cannot be made strict; its plain schema is returned with
    False, and the server does best effort while pydantic validates the reply as usual.
    """
    original = schema.model_json_schema()
    try:
        converted = _strict_node(copy.deepcopy(original), root=original, depth=0)
    except _NotStrictCompatible:
        return original, False
    return converted, True


def _strict_node(node: Any, *, root: dict[str, Any], depth: int) -> Any:
    if depth > 64:
        raise _NotStrictCompatible("schema nested too deeply")
    if isinstance(node, list):
        return [_strict_node(item, root=root, depth=depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    # Strict mode forbids keywords next to a `$ref`: inline the target (pydantic puts descriptions there).
    if "$ref" in node and len(node) > 1:
        target = _resolve_reference(node["$ref"], root=root)
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node = {**copy.deepcopy(target), **siblings}
    if "prefixItems" in node:
        raise _NotStrictCompatible("tuples are not supported by strict mode")
    if "oneOf" in node:  # pydantic's discriminated unions; anyOf is the strict-mode spelling
        node["anyOf"] = node.pop("oneOf")
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1 and isinstance(node["allOf"][0], dict):
        single = node.pop("allOf")[0]
        node = {**single, **node}
    for keyword in _DROPPED_KEYWORDS & node.keys():
        del node[keyword]
    is_object = node.get("type") == "object" or "properties" in node
    if is_object:
        extra = node.get("additionalProperties")
        if extra not in (None, False):
            raise _NotStrictCompatible("free-form objects are not supported by strict mode")
        properties = node.get("properties", {})
        node["properties"] = {
            name: _strict_node(value, root=root, depth=depth + 1) for name, value in properties.items()
        }
        node["required"] = list(properties)
        node["additionalProperties"] = False
        node.setdefault("type", "object")
    for keyword in ("items", "not"):
        if keyword in node:
            node[keyword] = _strict_node(node[keyword], root=root, depth=depth + 1)
    for keyword in ("anyOf", "allOf"):
        if keyword in node:
            node[keyword] = [_strict_node(option, root=root, depth=depth + 1) for option in node[keyword]]
    for keyword in ("$defs", "definitions"):
        if isinstance(node.get(keyword), dict):
            node[keyword] = {
                name: _strict_node(value, root=root, depth=depth + 1) for name, value in node[keyword].items()
            }
    return node


def _resolve_reference(reference: Any, *, root: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(reference, str) or not reference.startswith("#/"):
        raise _NotStrictCompatible(f"unsupported reference {reference!r}")
    target: Any = root
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            raise _NotStrictCompatible(f"dangling reference {reference!r}")
        target = target[part]
    if not isinstance(target, dict):
        raise _NotStrictCompatible(f"reference {reference!r} is not a schema")
    return target
