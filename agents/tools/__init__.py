"""Tools an agent may call: the `@tool` registry for Python functions, remote OpenAPI tool services,
and the runner behind the engine's `ToolRunner` port."""

from __future__ import annotations

from agents.tools.coercion import argument_to_python, arguments_to_python
from agents.tools.definitions import ToolContext, ToolDefinition, ToolParameterDefinition
from agents.tools.errors import (
    ToolArgumentError,
    ToolDefinitionError,
    ToolError,
    ToolNotFound,
    ToolResultError,
    ToolResultTooLarge,
    ToolServiceError,
)
from agents.tools.registry import (
    RegisteredTool,
    registered_tool,
    registered_tools,
    tool,
    tool_modules_load,
    tool_unregister,
)
from agents.tools.remote import (
    remote_tool_call,
    tool_service_cache_clear,
    tool_service_fetch,
    tool_service_load,
    tool_service_load_sync,
)
from agents.tools.runner import AgentToolRunner, ToolBinding, agent_tool_runner_from_document, tool_outcome_from_result
from behavior.engine.ports import ToolOutcome

__all__ = [
    "AgentToolRunner",
    "RegisteredTool",
    "ToolArgumentError",
    "ToolBinding",
    "ToolContext",
    "ToolDefinition",
    "ToolDefinitionError",
    "ToolError",
    "ToolNotFound",
    "ToolOutcome",
    "ToolParameterDefinition",
    "ToolResultError",
    "ToolResultTooLarge",
    "ToolServiceError",
    "agent_tool_runner_from_document",
    "argument_to_python",
    "arguments_to_python",
    "registered_tool",
    "registered_tools",
    "remote_tool_call",
    "tool",
    "tool_modules_load",
    "tool_outcome_from_result",
    "tool_service_cache_clear",
    "tool_service_fetch",
    "tool_service_load",
    "tool_service_load_sync",
    "tool_unregister",
]
