"""Pure validation rules: template fields, cycle detection, relationship kinds (usable on plain dicts)."""

from __future__ import annotations

import pytest

from behavior.validation import (
    canned_fields_errors,
    canned_template_errors,
    find_cycle,
    relationship_kind_allowed,
    template_fields,
)


def test_it_extracts_template_fields_in_order_without_duplicates() -> None:
    template = "Hi {{ customer.name }}, your booking {{booking_status}} is ready, {{ customer.name }}."
    assert template_fields(template) == ["customer.name", "booking_status"]


def test_it_accepts_single_braces_as_plain_text() -> None:
    assert template_fields("A set {a, b} and no fields") == []


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hello {{ customer.name", "Unclosed '{{' at position 6"),
        ("Hello customer.name }}", "Unmatched '}}' at position 20"),
        ("Hello {{ a {{ b }} }}", "Nested '{{' at position 11"),
        ("Hello {{ }}", "Invalid template field {{  }}"),
        ("Hello {{ first name }}", "Invalid template field {{ first name }}"),
        ("Hello {{ 1st }}", "Invalid template field {{ 1st }}"),
    ],
)
def test_it_rejects_malformed_templates(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        template_fields(template)


def test_it_names_an_unknown_template_field_and_accepts_builtins_and_declared_ones() -> None:
    template = "Hi {{ customer.name }} from {{ agent.name }}: {{ status }} {{ mystery }}"
    errors = canned_template_errors(template, ["status"])
    assert len(errors) == 1
    assert "{{ mystery }}" in errors[0]


def test_it_rejects_declared_fields_with_bad_kind_duplicates_or_builtin_names() -> None:
    errors = canned_fields_errors(
        [
            {"name": "status", "kind": "tool", "description": ""},
            {"name": "status", "kind": "tool", "description": ""},
            {"name": "price", "kind": "magic", "description": ""},
            {"name": "customer.name", "kind": "variable", "description": ""},
            "oops",
        ]
    )
    assert any("'status' is declared twice" in error for error in errors)
    assert any("'price' has kind 'magic'" in error for error in errors)
    assert any("'customer.name' is built in" in error for error in errors)
    assert any("#5" in error for error in errors)
    assert canned_fields_errors([{"name": "status", "kind": "generative", "description": "x"}]) == []


def test_it_finds_a_cycle_as_a_closed_path() -> None:
    assert find_cycle([("a", "b"), ("b", "c"), ("c", "a")]) == ["a", "b", "c", "a"]


def test_it_finds_a_self_loop_and_only_the_cycle_part_of_a_path() -> None:
    assert find_cycle([("x", "x")]) == ["x", "x"]
    assert find_cycle([("start", "a"), ("a", "b"), ("b", "a")]) == ["a", "b", "a"]


def test_it_returns_none_for_an_acyclic_graph_with_shared_descendants() -> None:
    assert find_cycle([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]) is None
    assert find_cycle([]) is None


def test_it_handles_long_chains_without_recursion_limits() -> None:
    edges = [(index, index + 1) for index in range(5000)]
    assert find_cycle(edges) is None
    assert find_cycle([*edges, (5000, 0)]) == [*range(5001), 0]


@pytest.mark.parametrize(
    ("kind", "source", "target", "observation"),
    [
        ("entails", "guideline", "guideline", False),
        ("overrides", "tag", "journey", False),
        ("depends_on", "journey", "guideline", False),
        ("depends_on_any", "guideline", "tag", False),
        ("disambiguates", "guideline", "journey", True),
        ("reevaluate_after", "guideline", "tool", False),
        ("tools_overlap", "tool", "tool", False),
    ],
)
def test_it_allows_each_kind_between_its_endpoint_types(kind: str, source: str, target: str, observation: bool) -> None:
    assert relationship_kind_allowed(kind, source, target, source_is_observation=observation) is None


@pytest.mark.parametrize(
    ("kind", "source", "target", "observation", "message"),
    [
        ("entails", "guideline", "tag", False, "entails relationship needs a guideline as target, not a tag"),
        ("entails", "journey", "guideline", False, "needs a guideline as source, not a journey"),
        ("overrides", "tool", "guideline", False, "needs a guideline, journey or tag as source, not a tool"),
        ("depends_on", "guideline", "tool", False, "as target, not a tool"),
        ("disambiguates", "guideline", "guideline", False, "needs an observation"),
        ("disambiguates", "guideline", "tag", True, "as target, not a tag"),
        ("reevaluate_after", "guideline", "guideline", False, "needs a tool as target"),
        ("tools_overlap", "guideline", "tool", False, "needs a tool as source"),
        ("befriends", "guideline", "guideline", False, "Unknown relationship kind 'befriends'"),
        ("entails", "customer", "guideline", False, "Unknown source type 'customer'"),
    ],
)
def test_it_rejects_kinds_illegal_for_the_endpoint_types(
    kind: str, source: str, target: str, observation: bool, message: str
) -> None:
    error = relationship_kind_allowed(kind, source, target, source_is_observation=observation)
    assert error is not None
    assert message in error
