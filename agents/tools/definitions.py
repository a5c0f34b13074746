"""What a tool is, as the rest of the product sees it: a name, a description and typed parameters, in
the shape of the behavior document's `tools[]` entries (docs/behavior-format.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents.tools.errors import ToolDefinitionError

PARAMETER_TYPES = ("str", "int", "float", "bool", "date", "datetime", "enum", "list")
ITEM_TYPES = ("str", "int", "float", "bool", "date", "datetime", "enum")
IMPLEMENTATIONS = ("python", "remote")
TOOL_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
PARAMETER_NAME = TOOL_NAME  # the studio and the document use the same identifier rule
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 0.1, 300.0


@dataclass(frozen=True)
class ToolContext:
    """Passed to a Python tool that declares a `ToolContext` parameter; never an LLM argument."""

    session_id: str
    customer_id: str | None
    tool_name: str


@dataclass(frozen=True)
class ToolParameterDefinition:
    name: str
    type: str
    description: str = ""
    required: bool = True
    enum: tuple[str, ...] = ()  # allowed values, for type "enum" or a list of enums
    items: str | None = None  # element type, for type "list"

    def __post_init__(self) -> None:
        if not PARAMETER_NAME.fullmatch(self.name):
            raise ToolDefinitionError(f"parameter name {self.name!r} is not an identifier")
        if self.type not in PARAMETER_TYPES:
            raise ToolDefinitionError(f"parameter {self.name!r}: unknown type {self.type!r}")
        if self.type == "list" and self.items not in ITEM_TYPES:
            raise ToolDefinitionError(f"parameter {self.name!r}: a list needs an element type, got {self.items!r}")
        if self.type != "list" and self.items is not None:
            raise ToolDefinitionError(f"parameter {self.name!r}: only lists have an element type")
        uses_enum = self.type == "enum" or self.items == "enum"
        if uses_enum and not self.enum:
            raise ToolDefinitionError(f"parameter {self.name!r}: an enum needs at least one value")
        if not uses_enum and self.enum:
            raise ToolDefinitionError(f"parameter {self.name!r}: enum values given for type {self.type!r}")
        if len(set(self.enum)) != len(self.enum):
            raise ToolDefinitionError(f"parameter {self.name!r}: duplicate enum values")

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "enum": list(self.enum),
            "items": self.items,
        }

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> ToolParameterDefinition:
        return cls(
            name=str(data["name"]),
            type=str(data.get("type", "str")),
            description=str(data.get("description") or ""),
            required=bool(data.get("required", True)),
            enum=tuple(str(value) for value in data.get("enum") or ()),
            items=data.get("items") or None,
        )


@dataclass(frozen=True)
class ToolDefinition:
    name: str
    description: str
    parameters: tuple[ToolParameterDefinition, ...] = ()
    consequential: bool = False
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not TOOL_NAME.fullmatch(self.name):
            raise ToolDefinitionError(f"tool name {self.name!r} must match [a-z_][a-z0-9_]* (at most 64 characters)")
        if not (
            math.isfinite(self.timeout_seconds) and MIN_TIMEOUT_SECONDS <= self.timeout_seconds <= MAX_TIMEOUT_SECONDS
        ):
            raise ToolDefinitionError(
                f"tool {self.name!r}: timeout_seconds must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS}"
            )
        names = [parameter.name for parameter in self.parameters]
        if len(set(names)) != len(names):
            raise ToolDefinitionError(f"tool {self.name!r}: duplicate parameter names")

    def parameter(self, name: str) -> ToolParameterDefinition | None:
        return next((parameter for parameter in self.parameters if parameter.name == name), None)

    def to_document(self, *, implementation: str = "python", service: str | None = None) -> dict[str, Any]:
        """The `tools[]` entry of the behavior document."""
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}")
        return {
            "name": self.name,
            "description": self.description,
            "implementation": implementation,
            "service": service if implementation == "remote" else None,
            "consequential": self.consequential,
            "timeout_seconds": self.timeout_seconds,
            "parameters": [parameter.to_document() for parameter in self.parameters],
        }

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> ToolDefinition:
        return cls(
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            parameters=tuple(ToolParameterDefinition.from_document(item) for item in data.get("parameters") or ()),
            consequential=bool(data.get("consequential", False)),
            timeout_seconds=float(data.get("timeout_seconds", 10.0)),
        )
