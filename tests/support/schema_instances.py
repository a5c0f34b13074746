"""A valid instance of a JSON schema, built without any schema library: what the fake OpenAI server
answers when a request asks for structured output and no responder overrides it."""

from __future__ import annotations

import math
import re
from typing import Any

_MAX_DEPTH = 24
_WHITESPACE = re.compile(r"\s+")


def schema_instance(schema: Any, *, hint: str = "") -> Any:
    """Objects get every declared property, enums their first value, arrays max(1, minItems) elements,
    strings a short text made from the field name and `hint` (the last user message), booleans true.
    Patterns are not honoured (nothing in our schemas uses them)."""
    root = schema if isinstance(schema, dict) else {}
    return _instance(schema, root=root, name="value", hint=_snippet(hint), depth=0)


def _instance(schema: Any, *, root: dict[str, Any], name: str, hint: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if depth > _MAX_DEPTH else _plausible_text(name, hint)
    if "$ref" in schema:
        target = _resolve(schema["$ref"], root=root)
        merged = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
        return _instance(merged, root=root, name=name, hint=hint, depth=depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        merged = _merge_all_of(schema)
        return _instance(merged, root=root, name=name, hint=hint, depth=depth + 1)
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            chosen = next((option for option in options if not _is_null(option)), options[0])
            return _instance(chosen, root=root, name=name, hint=hint, depth=depth + 1)
    kind = _type_of(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        return {
            key: _instance(value, root=root, name=key, hint=hint, depth=depth + 1) for key, value in properties.items()
        }
    if kind == "array":
        return _array(schema, root=root, name=name, hint=hint, depth=depth)
    if kind == "string":
        return _string(schema, name=name, hint=hint)
    if kind == "integer":
        return int(_number(schema, integer=True))
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return True
    return None


def _array(schema: dict[str, Any], *, root: dict[str, Any], name: str, hint: str, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [_instance(item, root=root, name=name, hint=hint, depth=depth + 1) for item in prefix]
    minimum = int(schema.get("minItems", 0) or 0)
    count = max(1, minimum)
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    item_schema = schema.get("items", {"type": "string"})
    singular = name[:-1] if name.endswith("s") and len(name) > 3 else name
    return [_instance(item_schema, root=root, name=singular, hint=hint, depth=depth + 1) for _ in range(count)]


def _string(schema: dict[str, Any], *, name: str, hint: str) -> str:
    formats = {
        "date": "2024-01-15",
        "date-time": "2024-01-15T10:30:00Z",
        "time": "10:30:00",
        "email": "customer@example.com",
        "uri": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }
    text = formats.get(str(schema.get("format", "")), _plausible_text(name, hint))
    minimum = int(schema.get("minLength", 0) or 0)
    if len(text) < minimum:
        text = text + "." * (minimum - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _number(schema: dict[str, Any], *, integer: bool) -> float:
    low = -math.inf
    high = math.inf
    step = 1.0 if integer else 0.5
    if "minimum" in schema:
        low = float(schema["minimum"])
    if "exclusiveMinimum" in schema:
        low = float(schema["exclusiveMinimum"]) + step
    if "maximum" in schema:
        high = float(schema["maximum"])
    if "exclusiveMaximum" in schema:
        high = float(schema["exclusiveMaximum"]) - step
    value = min(max(1.0, low), high)
    if integer:
        value = float(math.ceil(value))
        if value > high:
            value = float(math.floor(high))
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = math.ceil(value / multiple) * multiple
    return value


def _plausible_text(name: str, hint: str) -> str:
    label = name.replace("_", " ").strip().capitalize() or "Value"
    return f"{label}: {hint}" if hint else f"{label} (fake)"


def _snippet(text: str) -> str:
    words = _WHITESPACE.sub(" ", text).strip()
    return words if len(words) <= 60 else words[:59].rstrip() + "…"


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema["allOf"]:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _resolve(reference: Any, *, root: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(reference, str) or not reference.startswith("#"):
        return {}
    target: Any = root
    for part in reference.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part) if isinstance(target, dict) else None
    return target if isinstance(target, dict) else {}
