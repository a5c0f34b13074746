"""Pure validation rules for the behavior model, usable on ORM rows and on plain document dicts alike.

Nothing here touches the database: the import code calls these on a parsed document, the models call
them from `clean()`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

from django.core.validators import RegexValidator

NodeT = TypeVar("NodeT", bound=Hashable)

# Keys of guidelines, journeys, journey states and canned responses.
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]*\Z"
# Names of tools, tool parameters, tool services and context variables.
IDENTIFIER_PATTERN = r"^[a-z_][a-z0-9_]*\Z"
# Tags group entities; `journey:<key>` scopes an entity to a journey, so `:` is allowed.
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*\Z"
# A canned-response field: `customer.name`, `booking_status`.
FIELD_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z"

KEY_MAX_LENGTH = 100
NAME_MAX_LENGTH = 100

key_validator = RegexValidator(
    KEY_PATTERN, "Use lowercase letters, digits and dashes, starting with a letter or digit (e.g. refund-policy)."
)
identifier_validator = RegexValidator(
    IDENTIFIER_PATTERN,
    "Use lowercase letters, digits and underscores, not starting with a digit (e.g. lookup_booking).",
)
tag_validator = RegexValidator(
    TAG_PATTERN, "Use letters, digits and . _ : / -, starting with a letter or digit, no spaces (e.g. vip)."
)

BUILTIN_TEMPLATE_FIELDS = frozenset({"customer.name", "customer.id", "agent.name"})
CANNED_FIELD_KINDS = ("tool", "generative", "variable")

ENDPOINT_TYPES = ("guideline", "tag", "journey", "tool")
RELATIONSHIP_KINDS = (
    "entails",
    "overrides",
    "depends_on",
    "depends_on_any",
    "disambiguates",
    "reevaluate_after",
    "tools_overlap",
)
# kind -> (allowed source types, allowed target types)
_KIND_ENDPOINTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "entails": (frozenset({"guideline"}), frozenset({"guideline"})),
    "overrides": (frozenset({"guideline", "tag", "journey"}), frozenset({"guideline", "tag", "journey"})),
    "depends_on": (frozenset({"guideline", "tag", "journey"}), frozenset({"guideline", "tag", "journey"})),
    "depends_on_any": (frozenset({"guideline", "tag", "journey"}), frozenset({"guideline", "tag", "journey"})),
    "disambiguates": (frozenset({"guideline"}), frozenset({"guideline", "journey"})),
    "reevaluate_after": (frozenset({"guideline"}), frozenset({"tool"})),
    "tools_overlap": (frozenset({"tool"}), frozenset({"tool"})),
}
# Kinds whose graph must stay acyclic, grouped: a depends_on cycle through a depends_on_any edge is still a cycle.
CYCLE_GROUPS: dict[str, tuple[str, ...]] = {
    "overrides": ("overrides",),
    "depends_on": ("depends_on", "depends_on_any"),
    "depends_on_any": ("depends_on", "depends_on_any"),
}


def _or_list(values: Iterable[str]) -> str:
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]


def relationship_kind_allowed(
    kind: str, source_type: str, target_type: str, *, source_is_observation: bool
) -> str | None:
    """Return an error message when `kind` cannot link these endpoint types, None when it can."""
    if kind not in _KIND_ENDPOINTS:
        return f"Unknown relationship kind {kind!r} (use {_or_list(RELATIONSHIP_KINDS)})."
    for side, endpoint_type in (("source", source_type), ("target", target_type)):
        if endpoint_type not in ENDPOINT_TYPES:
            return f"Unknown {side} type {endpoint_type!r} (use {_or_list(ENDPOINT_TYPES)})."
    sources, targets = _KIND_ENDPOINTS[kind]
    if source_type not in sources:
        return f"A {kind} relationship needs a {_or_list(sources)} as source, not a {source_type}."
    if target_type not in targets:
        return f"A {kind} relationship needs a {_or_list(targets)} as target, not a {target_type}."
    if kind == "disambiguates" and not source_is_observation:
        return "A disambiguates relationship needs an observation (a guideline without action) as source."
    return None


def find_cycle(edges: Sequence[tuple[NodeT, NodeT]]) -> list[NodeT] | None:
    """Return one cycle as a closed path [a, b, ..., a] if the directed graph has one, else None.

    Deterministic: nodes are visited in first-appearance order. Iterative, so deep graphs are fine.
    """
    adjacency: dict[NodeT, list[NodeT]] = {}
    for source, target in edges:
        adjacency.setdefault(source, []).append(target)
        adjacency.setdefault(target, [])
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(adjacency, white)
    for start in adjacency:
        if color[start] != white:
            continue
        path: list[NodeT] = [start]
        iterators = [iter(adjacency[start])]
        color[start] = grey
        while iterators:
            next_node = next(iterators[-1], None)
            if next_node is None:
                color[path.pop()] = black
                iterators.pop()
                continue
            if color[next_node] == grey:
                return [*path[path.index(next_node) :], next_node]
            if color[next_node] == white:
                color[next_node] = grey
                path.append(next_node)
                iterators.append(iter(adjacency[next_node]))
    return None


def template_fields(template: str) -> list[str]:
    """The `{{ field }}` names used in a canned-response template, unique, in order of first use.

    Raises ValueError naming the problem for unbalanced or nested braces and invalid field names.
    """
    names: list[str] = []
    position = 0
    while True:
        opening = template.find("{{", position)
        closing = template.find("}}", position)
        if opening == -1 and closing == -1:
            return names
        if opening == -1 or (closing != -1 and closing < opening):
            raise ValueError(f"Unmatched '}}}}' at position {closing} in the template.")
        end = template.find("}}", opening + 2)
        if end == -1:
            raise ValueError(f"Unclosed '{{{{' at position {opening} in the template.")
        nested = template.find("{{", opening + 2)
        if nested != -1 and nested < end:
            raise ValueError(f"Nested '{{{{' at position {nested} in the template.")
        name = template[opening + 2 : end].strip()
        if not re.match(FIELD_NAME_PATTERN, name):
            raise ValueError(
                f"Invalid template field {{{{ {name} }}}}: use a name like customer.name or booking_status."
            )
        if name not in names:
            names.append(name)
        position = end + 2


def canned_fields_errors(fields: object) -> list[str]:
    """Errors in a canned response's declared `fields` list ([{name, kind, description}])."""
    if not isinstance(fields, list):
        return ["Fields must be a list of {name, kind, description} objects."]
    errors: list[str] = []
    seen: set[str] = set()
    for index, field in enumerate(fields):
        if not isinstance(field, dict):
            errors.append(f"Field #{index + 1} must be an object with name, kind and description.")
            continue
        name = field.get("name")
        if not isinstance(name, str) or not re.match(FIELD_NAME_PATTERN, name):
            errors.append(f"Field #{index + 1} has an invalid name {name!r}.")
            continue
        if name in BUILTIN_TEMPLATE_FIELDS:
            errors.append(f"Field {name!r} is built in and must not be declared.")
        if name in seen:
            errors.append(f"Field {name!r} is declared twice.")
        seen.add(name)
        if field.get("kind") not in CANNED_FIELD_KINDS:
            errors.append(f"Field {name!r} has kind {field.get('kind')!r} (use {_or_list(CANNED_FIELD_KINDS)}).")
        if not isinstance(field.get("description", ""), str):
            errors.append(f"Field {name!r} needs a text description.")
        unknown = set(field) - {"name", "kind", "description"}
        if unknown:
            errors.append(f"Field {name!r} has unknown keys: {', '.join(sorted(unknown))}.")
    return errors


def canned_template_errors(template: str, declared_fields: Iterable[str]) -> list[str]:
    """Errors in a canned-response template given the names of its declared fields."""
    try:
        used = template_fields(template)
    except ValueError as error:
        return [str(error)]
    known = BUILTIN_TEMPLATE_FIELDS | set(declared_fields)
    return [
        f"Unknown template field {{{{ {name} }}}}: declare it in fields or use a built-in "
        f"({', '.join(sorted(BUILTIN_TEMPLATE_FIELDS))})."
        for name in used
        if name not in known
    ]


def string_list_errors(value: object, *, what: str, max_items: int = 200, max_length: int = 1000) -> list[str]:
    """Errors for a JSON value that must be a bounded list of non-empty strings (labels, synonyms, signals)."""
    if not isinstance(value, list):
        return [f"{what} must be a list of texts."]
    if len(value) > max_items:
        return [f"{what} has {len(value)} items; the limit is {max_items}."]
    errors = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            errors.append(f"{what} must contain non-empty texts, not {item!r}.")
        elif len(item) > max_length:
            errors.append(f"{what} item {item[:40]!r}... is longer than {max_length} characters.")
    return errors
