"""`AgentToolRunner`: the engine's `ToolRunner` port for one agent's tools, Python (the registry) or
remote (an OpenAPI tool service). Arguments are coerced to the declared types; results are bounded."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from agents.tools.coercion import arguments_to_python
from agents.tools.definitions import ToolContext, ToolDefinition
from agents.tools.errors import ToolDefinitionError, ToolNotFound, ToolResultError, ToolResultTooLarge
from agents.tools.registry import registered_tool
from agents.tools.remote import remote_tool_call
from behavior.engine.ports import ToolCallRequest, ToolOutcome

MAX_RESULT_BYTES = 64 * 1024


@dataclass(frozen=True)
class ToolBinding:
    """How one tool of an agent is implemented."""

    definition: ToolDefinition
    implementation: Literal["python", "remote"] = "python"
    service_url: str | None = None

    def __post_init__(self) -> None:
        if self.implementation not in ("python", "remote"):
            raise ToolDefinitionError(f"tool {self.definition.name!r}: unknown implementation {self.implementation!r}")
        if self.implementation == "remote" and not self.service_url:
            raise ToolDefinitionError(f"remote tool {self.definition.name!r} needs a service URL")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)  # exact, unlike a float
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _json_bounded(value: Any, *, what: str, max_bytes: int) -> tuple[Any, int]:
    """`value` as plain JSON data, and its serialised size; too large or not serialisable is an error."""
    try:
        text = json.dumps(value, default=_json_default, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise ToolResultError(f"{what} is not JSON-serialisable: {error}") from error
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ToolResultTooLarge(f"{what} is {size} bytes of JSON, above the limit of {max_bytes}")
    return json.loads(text), size


def tool_outcome_from_result(result: Any, *, max_bytes: int = MAX_RESULT_BYTES) -> ToolOutcome:
    """A tool's return value as a `ToolOutcome` of plain JSON data, at most `max_bytes` in all."""
    if isinstance(result, ToolOutcome):
        try:
            payload = {
                "data": result.data,
                "control": dict(result.control),
                "guidelines": [dict(item) for item in result.guidelines],
                "canned_fields": dict(result.canned_fields),
            }
        except (TypeError, ValueError) as error:
            raise ToolResultError(f"the tool returned a malformed ToolOutcome: {error}") from error
        whole, _size = _json_bounded(payload, what="the tool result", max_bytes=max_bytes)
        return ToolOutcome(
            data=whole["data"],
            control=whole["control"],
            guidelines=tuple(whole["guidelines"]),
            canned_fields=whole["canned_fields"],
        )
    data, _size = _json_bounded(result, what="the tool result", max_bytes=max_bytes)
    return ToolOutcome(data=data)


class AgentToolRunner:
    """Runs the tools bound to one agent. Exceptions propagate: the engine contains and traces them,
    and enforces `call.timeout_seconds` (remote calls also stop at that deadline themselves)."""

    def __init__(self, bindings: Mapping[str, ToolBinding], *, max_result_bytes: int = MAX_RESULT_BYTES) -> None:
        for name, binding in bindings.items():
            if binding.definition.name != name:
                raise ToolDefinitionError(f"binding {name!r} holds the definition of {binding.definition.name!r}")
        self.bindings = dict(bindings)
        self.max_result_bytes = max_result_bytes

    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        binding = self.bindings.get(call.tool_name)
        if binding is None:
            raise ToolNotFound(f"tool {call.tool_name!r} is not available to this agent")
        if binding.implementation == "python":
            # The function's own signature is the truth for coercion, whatever the document says.
            registered = registered_tool(call.tool_name)
            context = ToolContext(session_id=call.session_id, customer_id=call.customer_id, tool_name=call.tool_name)
            result = await registered.invoke(call.arguments, context=context)
        else:
            assert binding.service_url is not None  # checked in ToolBinding
            arguments = arguments_to_python(call.arguments, binding.definition.parameters)
            result = await remote_tool_call(
                binding.service_url, call.tool_name, arguments, timeout=call.timeout_seconds
            )
        return tool_outcome_from_result(result, max_bytes=self.max_result_bytes)


def agent_tool_runner_from_document(document: Mapping[str, Any]) -> AgentToolRunner:
    """The runner for the tools of a behavior document (docs/behavior-format.md: `tools`, `tool_services`)."""
    services = {str(service["name"]): str(service["url"]) for service in document.get("tool_services") or ()}
    bindings: dict[str, ToolBinding] = {}
    for entry in document.get("tools") or ():
        definition = ToolDefinition.from_document(entry)
        implementation = entry.get("implementation", "python")
        service_url = None
        if implementation == "remote":
            service_url = services.get(str(entry.get("service")))
            if service_url is None:
                raise ToolDefinitionError(
                    f"tool {definition.name!r} names an unknown tool service {entry.get('service')!r}"
                )
        bindings[definition.name] = ToolBinding(definition, implementation, service_url)
    return AgentToolRunner(bindings)
