"""document_load / document_dump: YAML and JSON parity, parse errors with positions, and input bounds."""

from __future__ import annotations

from typing import Any

import pytest

from behavior.documents import document_validate
from behavior.services import MAX_DOCUMENT_BYTES, document_dump, document_format, document_load
from config.errors import PayloadTooLarge, ValidationFailed


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_dumped_document_loads_back_unchanged(demo_document: dict[str, Any], fmt: str) -> None:
    assert document_load(document_dump(demo_document, fmt), fmt) == demo_document


def test_yaml_and_json_of_the_same_document_load_to_the_same_data(demo_document: dict[str, Any]) -> None:
    from_yaml = document_load(document_dump(demo_document, "yaml"), "yaml")
    from_json = document_load(document_dump(demo_document, "json"), "json")

    assert from_yaml == from_json
    assert document_validate(from_yaml).as_data() == document_validate(from_json).as_data()


def test_a_yaml_date_stays_a_string_as_in_json() -> None:
    assert document_load("when: 2025-06-01\n", "yaml") == document_load('{"when": "2025-06-01"}', "json")


def test_dumps_keep_the_documented_key_order(demo_document: dict[str, Any]) -> None:
    text = document_dump(demo_document, "yaml")

    assert text.startswith("format: decorum.behavior\nschema_version: 1\nagent:\n  name: Skyway Support\n")
    assert text.index("\nguidelines:") < text.index("\nrelationships:") < text.index("\njourneys:")


def test_bytes_are_read_as_utf8_with_or_without_a_bom() -> None:
    assert document_load("\ufeffname: Café\n".encode(), "yaml") == {"name": "Café"}


def parse_error(text: str | bytes, fmt: str) -> str:
    with pytest.raises(ValidationFailed) as raised:
        document_load(text, fmt)
    return raised.value.message


def test_a_yaml_syntax_error_names_its_line_and_column() -> None:
    message = parse_error("agent:\n  name: [unclosed\nguidelines: []\n", "yaml")

    assert message.startswith("The file is not valid YAML: line 3, column")


def test_a_json_syntax_error_names_its_line_and_column() -> None:
    assert parse_error('{\n  "agent": {,\n}', "json") == (
        "The file is not valid JSON: line 2, column 13: Expecting property name enclosed in double quotes"
    )


def test_yaml_anchors_and_aliases_are_refused() -> None:
    """Aliases let a few lines expand into billions of nodes."""
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n'

    assert "anchors and aliases" in parse_error(bomb, "yaml")


@pytest.mark.parametrize(
    ("text", "fmt"), [("name: a\nname: b\n", "yaml"), ('{"name": "a", "name": "b"}', "json")], ids=["yaml", "json"]
)
def test_duplicate_keys_are_refused_instead_of_silently_dropped(text: str, fmt: str) -> None:
    assert "duplicate key 'name'" in parse_error(text, fmt)


def test_json_nan_is_refused() -> None:
    assert "NaN is not allowed" in parse_error('{"temperature": NaN}', "json")


def test_yaml_python_tags_are_not_executed() -> None:
    message = parse_error("agent: !!python/object/apply:os.system ['echo hacked']\n", "yaml")

    assert message.startswith("The file is not valid YAML")


def test_deeply_nested_json_is_a_clear_error() -> None:
    assert "nested too deeply" in parse_error("[" * 100_000, "json")


def test_non_utf8_bytes_are_a_clear_error() -> None:
    assert "not UTF-8" in parse_error(b"name: \xff\xfe\n", "yaml")


def test_a_document_above_the_size_bound_is_refused_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        document_load("#" * (MAX_DOCUMENT_BYTES + 1), "yaml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", "json"),
        ("YAML", "yaml"),
        ("agent.yml", "yaml"),
        ("/tmp/a.b/agent.JSON", "json"),
        ("agent.yaml", "yaml"),
    ],
)
def test_the_format_comes_from_a_name_or_an_extension(value: str, expected: str) -> None:
    assert document_format(value) == expected


@pytest.mark.parametrize("value", ["agent.txt", "xml", "agent"])
def test_an_unknown_format_is_refused(value: str) -> None:
    with pytest.raises(ValidationFailed):
        document_format(value)
