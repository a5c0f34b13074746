"""Reading and writing behavior documents as JSON or YAML text, with size bounds and precise parse errors."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any, Literal

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from behavior.documents import BehaviorDocument
from config.errors import PayloadTooLarge, ValidationFailed

DocumentFormat = Literal["json", "yaml"]
FORMATS: tuple[DocumentFormat, ...] = ("json", "yaml")
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class _DocumentLoader(yaml.SafeLoader):
    """safe_load with three differences that keep YAML and JSON equivalent and bounded:
    no anchors/aliases (a few lines of aliases can expand to billions of nodes), no implicit dates
    (`2025-01-01` stays a string, as in JSON), and duplicate keys are errors instead of last-one-wins."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ComposerError(
                None,
                None,
                "anchors and aliases (&name, *name) are not allowed in a behavior document",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def document_format(value: str) -> DocumentFormat:
    """'json', 'yaml' or 'yml' (any case), or a file name ending in one of them -> 'json' | 'yaml'."""
    lowered = value.lower()
    suffix = PurePath(lowered).suffix.lstrip(".") if "." in lowered else lowered
    if suffix == "json":
        return "json"
    if suffix in ("yaml", "yml"):
        return "yaml"
    raise ValidationFailed(
        f"Unknown document format {value!r}: use json or yaml (files ending in .json, .yaml or .yml).",
        details=[{"path": "", "message": "format must be json or yaml"}],
    )


def document_dump(document: dict[str, Any] | BehaviorDocument, fmt: DocumentFormat) -> str:
    """The document as text: JSON (2-space indent) or YAML (block style), keys in the documented order."""
    data = document.as_data() if isinstance(document, BehaviorDocument) else document
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    raise ValueError(f"Unknown document format {fmt!r}")


def _parse_failure(fmt: DocumentFormat, message: str) -> ValidationFailed:
    label = "JSON" if fmt == "json" else "YAML"
    return ValidationFailed(f"The file is not valid {label}: {message}", details=[{"path": "", "message": message}])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def document_load(text: str | bytes, fmt: DocumentFormat) -> Any:
    """Parse JSON or YAML text into plain Python data (validate it with document_validate).

    Raises PayloadTooLarge above MAX_DOCUMENT_BYTES and ValidationFailed, naming the line and column,
    when the text does not parse.
    """
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(
            f"The document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes.",
            details=[{"path": "", "message": f"larger than {MAX_DOCUMENT_BYTES} bytes"}],
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _parse_failure(fmt, f"the file is not UTF-8 text (byte {error.start})") from None
    if fmt == "json":
        try:
            return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_json_object)
        except json.JSONDecodeError as error:
            raise _parse_failure(fmt, f"line {error.lineno}, column {error.colno}: {error.msg}") from None
        except ValueError as error:
            raise _parse_failure(fmt, str(error)) from None
        except RecursionError:
            raise _parse_failure(fmt, "values are nested too deeply") from None
    if fmt == "yaml":
        try:
            return yaml.load(text, Loader=_DocumentLoader)  # noqa: S506 - _DocumentLoader is a SafeLoader
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = error.problem or error.context or "invalid YAML"
            raise _parse_failure(fmt, f"{where}{problem}") from None
        except yaml.YAMLError as error:
            raise _parse_failure(fmt, str(error)) from None
        except RecursionError:
            raise _parse_failure(fmt, "values are nested too deeply") from None
    raise ValueError(f"Unknown document format {fmt!r}")
