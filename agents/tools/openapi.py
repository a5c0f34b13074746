"""Read an OpenAPI 3 document into tool definitions: each operation with an operationId becomes a
tool; its path, query and JSON-body parameters become typed tool parameters."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from agents.tools.definitions import TOOL_NAME, ToolDefinition, ToolParameterDefinition
from agents.tools.errors import ToolDefinitionError, ToolServiceError

logger = logging.getLogger(__name__)

_METHODS = ("get", "post", "put", "patch", "delete")
_MAX_REF_DEPTH = 16
_MAX_DESCRIPTION_CHARS = 2_000


@dataclass(frozen=True)
class RemoteParameter:
    name: str  # our (snake_case) name
    wire_name: str  # the name the service expects
    location: str  # path | query | body
    enum_values: Mapping[str, Any]  # enum string -> the JSON value the service expects


@dataclass(frozen=True)
class RemoteOperation:
    definition: ToolDefinition
    method: str
    url: str  # absolute, with {path} placeholders
    parameters: tuple[RemoteParameter, ...]
    has_body: bool


@dataclass(frozen=True)
class RemoteToolService:
    url: str  # where the OpenAPI document was fetched
    operations: Mapping[str, RemoteOperation]

    def definitions(self) -> list[ToolDefinition]:
        return [self.operations[name].definition for name in sorted(self.operations)]


class _Unsupported(Exception):
    pass


def snake_case(name: str) -> str:
    """`getBooking` -> `get_booking`, `booking-ref` -> `booking_ref`."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower()
    return f"_{name}" if name[:1].isdigit() else name


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Resolver:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        for _ in range(_MAX_REF_DEPTH):
            if not isinstance(node, Mapping) or "$ref" not in node:
                return node
            reference = node["$ref"]
            if not isinstance(reference, str) or not reference.startswith("#/"):
                raise _Unsupported(f"only local $ref are supported, got {reference!r:.80}")
            target: Any = self.document
            for part in reference[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise _Unsupported(f"unresolvable $ref {reference!r:.80}")
                target = target[part]
            node = target
        raise _Unsupported("$ref chain too deep (or circular)")

    def schema_type(self, schema: Any) -> tuple[str, tuple[str, ...], str | None, dict[str, Any]]:
        """(type, enum strings, items type, enum string -> JSON value)."""
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping):
            raise _Unsupported("schema is not an object")
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:  # Optional[X] spelled as X | null
                members = [self.resolve(member) for member in schema[combinator]]
                non_null = [
                    member for member in members if not (isinstance(member, Mapping) and member.get("type") == "null")
                ]
                if len(non_null) != 1:
                    raise _Unsupported(f"{combinator} with several alternatives")
                return self.schema_type(non_null[0])
        kind = schema.get("type")
        if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
            kinds = [item for item in kind if item != "null"]
            if len(kinds) != 1:
                raise _Unsupported(f"type {kind!r}")
            kind = kinds[0]
        if "enum" in schema:
            values = [value for value in schema["enum"] if value is not None]
            mapping: dict[str, Any] = {}
            for value in values:
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    raise _Unsupported(f"enum value {value!r:.40}")
                mapping.setdefault(str(value), value)
            if not mapping:
                raise _Unsupported("empty enum")
            return "enum", tuple(mapping), None, mapping
        if kind == "string":
            fmt = schema.get("format")
            return {"date": "date", "date-time": "datetime"}.get(str(fmt), "str"), (), None, {}
        if kind in ("integer", "number", "boolean"):
            return {"integer": "int", "number": "float", "boolean": "bool"}[kind], (), None, {}
        if kind == "array":
            item_kind, item_enum, nested, mapping = self.schema_type(schema.get("items", {}))
            if item_kind == "list" or nested:
                raise _Unsupported("nested arrays")
            return "list", item_enum, item_kind, mapping
        raise _Unsupported(f"schema type {kind!r}")


def _text(value: Any) -> str:
    return str(value or "").strip()[:_MAX_DESCRIPTION_CHARS]


def _operation_parse(
    resolver: _Resolver,
    *,
    method: str,
    path: str,
    operation: Mapping[str, Any],
    shared: list[Any],
    base_url: str,
    timeout: float,
) -> RemoteOperation:
    name = snake_case(str(operation["operationId"]))
    if not TOOL_NAME.fullmatch(name):
        raise _Unsupported(f"operationId {operation['operationId']!r:.80} is not usable as a tool name")
    parameters: list[ToolParameterDefinition] = []
    remote: list[RemoteParameter] = []

    def add(wire_name: str, location: str, schema: Any, *, required: bool, description: str) -> None:
        kind, enum, items, mapping = resolver.schema_type(schema)
        parameter_name = snake_case(wire_name)
        if any(existing.name == parameter_name for existing in parameters):
            raise _Unsupported(f"two parameters are both called {parameter_name!r}")
        parameters.append(
            ToolParameterDefinition(
                name=parameter_name,
                type=kind,
                description=description or _text(resolver.resolve(schema).get("description")),
                required=required,
                enum=enum,
                items=items,
            )
        )
        remote.append(RemoteParameter(parameter_name, wire_name, location, mapping))

    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*shared, *operation.get("parameters", [])]:  # operation-level entries override path-level ones
        parameter = resolver.resolve(raw)
        if not isinstance(parameter, Mapping) or "name" not in parameter:
            raise _Unsupported("malformed parameter")
        by_key[(str(parameter["name"]), str(parameter.get("in")))] = parameter
    for (wire_name, location), parameter in by_key.items():
        required = bool(parameter.get("required", location == "path"))
        if location not in ("path", "query"):
            if required:
                raise _Unsupported(f"required {location} parameter {wire_name!r}")
            continue  # optional header/cookie parameters are simply not offered
        add(
            wire_name,
            location,
            parameter.get("schema", {}),
            required=required,
            description=_text(parameter.get("description")),
        )

    has_body = False
    if "requestBody" in operation:
        body = resolver.resolve(operation["requestBody"])
        content = body.get("content", {}) if isinstance(body, Mapping) else {}
        json_media = next(
            (value for key, value in content.items() if key.split(";")[0].strip() == "application/json"), None
        )
        if json_media is None:
            if body.get("required"):
                raise _Unsupported("a required request body that is not application/json")
        else:
            schema = resolver.resolve(json_media.get("schema", {}))
            if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
                raise _Unsupported("a JSON request body that is not an object")
            required_fields = set(schema.get("required", []))
            for property_name, property_schema in (schema.get("properties") or {}).items():
                add(
                    str(property_name),
                    "body",
                    property_schema,
                    required=property_name in required_fields,
                    description=_text(resolver.resolve(property_schema).get("description")),
                )
            has_body = True

    consequential = operation.get("x-decorum-consequential", False)
    definition = ToolDefinition(
        name=name,
        description=_text(operation.get("summary") or operation.get("description")) or f"{method.upper()} {path}",
        parameters=tuple(parameters),
        consequential=consequential is True,
        timeout_seconds=timeout,
    )
    return RemoteOperation(
        definition=definition,
        method=method.upper(),
        url=base_url.rstrip("/") + "/" + path.lstrip("/"),
        parameters=tuple(remote),
        has_body=has_body,
    )


def openapi_parse(document: Any, *, url: str, timeout: float) -> RemoteToolService:
    """The service described by `document` (fetched from `url`). Operations that cannot be expressed
    as tools are skipped with a warning; a document that is not OpenAPI 3 is an error. Calls go to the
    document's first server, which must be on the same origin as the document itself."""
    if not isinstance(document, Mapping) or not str(document.get("openapi", "")).startswith("3."):
        raise ToolServiceError(f"{url} is not an OpenAPI 3 document")
    servers = document.get("servers") or [{"url": "/"}]
    server: Mapping[str, Any] = {"url": "/"}
    if isinstance(servers, list) and servers and isinstance(servers[0], Mapping):
        server = servers[0]
    server_url = str(server.get("url", "/"))
    variables = server.get("variables")
    for variable, spec in variables.items() if isinstance(variables, Mapping) else ():
        default = spec.get("default", "") if isinstance(spec, Mapping) else ""
        server_url = server_url.replace("{" + str(variable) + "}", str(default))
    base_url = urljoin(url, server_url)
    if origin(base_url) != origin(url):
        raise ToolServiceError(f"{url}: the server {base_url!r:.200} is on another host than the document")

    resolver = _Resolver(document)
    operations: dict[str, RemoteOperation] = {}
    paths = document.get("paths") or {}
    if not isinstance(paths, Mapping):
        raise ToolServiceError(f"{url}: `paths` is not an object")
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        shared = list(item.get("parameters", []))
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping) or not operation.get("operationId"):
                continue
            try:
                parsed = _operation_parse(
                    resolver,
                    method=method,
                    path=str(path),
                    operation=operation,
                    shared=shared,
                    base_url=base_url,
                    timeout=timeout,
                )
            except (_Unsupported, ToolDefinitionError, TypeError, AttributeError) as error:
                logger.warning("%s: skipping %s %s: %s", url, method.upper(), path, error)
                continue
            if parsed.definition.name in operations:
                logger.warning(
                    "%s: skipping %s %s: duplicate tool name %s", url, method.upper(), path, parsed.definition.name
                )
                continue
            operations[parsed.definition.name] = parsed
    return RemoteToolService(url=url, operations=operations)
