"""Length bounds for grammar-constrained decoding (json_object mode: llama.cpp turns
`response_format.schema` into a grammar). Without them a small local model can loop inside a string or
an array until its context is full, and the truncated JSON never validates.

Only the schema sent to the server is bounded: the prompt shows the plain schema and the reply is
validated against the pydantic model as usual. Bounds the schema already sets are kept."""

from __future__ import annotations

import copy
from typing import Any

GRAMMAR_MAX_STRING_CHARS = 600
# Lists at the top of a reply (verdicts, followed ids): above the engine's batches (12 guidelines).
GRAMMAR_MAX_ITEMS = 48
# Lists inside list items (a verdict's tool calls, a call's arguments): a few are ever needed.
GRAMMAR_MAX_NESTED_ITEMS = 6


def grammar_bounded(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` where every free string has a maxLength and every array a maxItems.
    Arrays inside array items or inside `$defs` (which pydantic uses for list items) count as nested."""
    bounded = copy.deepcopy(schema)
    _bound(bounded, nested=False, depth=0)
    return bounded


def _bound(node: Any, *, nested: bool, depth: int) -> None:
    if depth > 64:
        return
    if isinstance(node, list):
        for item in node:
            _bound(item, nested=nested, depth=depth + 1)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if (
        kind == "string"
        and "enum" not in node
        and "const" not in node
        and "pattern" not in node
        and "format" not in node
    ):
        node.setdefault("maxLength", GRAMMAR_MAX_STRING_CHARS)
    if kind == "array":
        node.setdefault("maxItems", GRAMMAR_MAX_NESTED_ITEMS if nested else GRAMMAR_MAX_ITEMS)
    for key, value in node.items():
        if key in ("$defs", "definitions") and isinstance(value, dict):
            for definition in value.values():
                _bound(definition, nested=True, depth=depth + 1)
        elif key in ("items", "prefixItems"):
            _bound(value, nested=True, depth=depth + 1)
        elif key != "enum":
            _bound(value, nested=nested, depth=depth + 1)
