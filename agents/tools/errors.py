"""Errors raised by the tool registry, the argument coercion, remote tool services and the runner."""

from __future__ import annotations


class ToolError(Exception):
    """Base class: a tool could not be defined, found, called, or its result used."""


class ToolDefinitionError(ToolError, TypeError):
    """A decorated function cannot be a tool (unsupported annotation, missing docstring, bad name)."""


class ToolNotFound(ToolError, LookupError):
    """No tool of that name is registered (or bound to the agent)."""


class ToolArgumentError(ToolError, ValueError):
    """An argument is missing, unknown, or cannot be coerced to the declared type."""


class ToolResultError(ToolError):
    """The tool returned something that cannot be passed on (not JSON-serialisable, too large)."""


class ToolResultTooLarge(ToolResultError):
    pass


class ToolServiceError(ToolError):
    """A remote tool service failed: unreachable, timed out, bad OpenAPI document, non-JSON or oversized
    response, HTTP error status, redirect to another host."""
