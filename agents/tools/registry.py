"""The Python tool registry: `@tool` turns a typed, documented function into a tool whose parameter
types come from its annotations and whose descriptions come from its Google-style docstring."""

from __future__ import annotations

import asyncio
import enum
import importlib
import inspect
import logging
import threading
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar, overload

from agents.tools.coercion import arguments_to_python
from agents.tools.definitions import ToolContext, ToolDefinition, ToolParameterDefinition
from agents.tools.docstrings import docstring_parse
from agents.tools.errors import ToolDefinitionError, ToolNotFound

logger = logging.getLogger(__name__)

FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])
_SCALARS: dict[type, str] = {str: "str", int: "int", float: "float", bool: "bool", datetime: "datetime", date: "date"}
_SUPPORTED = "str, int, float, bool, date, datetime, an Enum, a Literal, list[...] of those, or Optional[...]"


@dataclass(frozen=True)
class RegisteredTool:
    definition: ToolDefinition
    function: Callable[..., Any]
    context_parameter: str | None = None  # the parameter that receives the ToolContext, if any
    # Per parameter, enum string value -> the Python value the function expects (Enum member, Literal).
    enum_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Optional parameters without a default: an absent argument is passed as None.
    none_when_absent: frozenset[str] = frozenset()

    def arguments_prepare(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for the function: coerced, enums as Python values, defaults applied."""
        values = arguments_to_python(arguments, self.definition.parameters)
        for name, mapping in self.enum_values.items():
            if values.get(name) is not None:
                value = values[name]
                values[name] = [mapping[item] for item in value] if isinstance(value, list) else mapping[value]
        for name in self.none_when_absent:
            values.setdefault(name, None)
        return values

    async def invoke(self, arguments: Mapping[str, Any], *, context: ToolContext) -> Any:
        """Call the function; a synchronous one runs in a worker thread. Exceptions propagate."""
        values = self.arguments_prepare(arguments)
        if self.context_parameter:
            values[self.context_parameter] = context
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**values)
        result = await asyncio.to_thread(self.function, **values)
        if inspect.isawaitable(result):
            result = await result
        return result


_registry: dict[str, RegisteredTool] = {}
_registry_lock = threading.Lock()
_load_lock = threading.RLock()  # re-entrant: a tool module may look up tools while it is imported
_modules_loaded = False
# Registered on every server, before the modules of DECORUM_TOOL_MODULES.
BUILTIN_TOOL_MODULES = ("agents.tools.builtin",)


def _enum_strings(values: list[Any], *, where: str) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ToolDefinitionError(f"{where}: enum values must be strings or integers, got {value!r}")
        if str(value) in mapping:
            raise ToolDefinitionError(f"{where}: enum values {value!r} collide as strings")
        mapping[str(value)] = value
    if not mapping:
        raise ToolDefinitionError(f"{where}: an enum needs at least one value")
    return mapping


def _annotation_type(annotation: Any, *, where: str) -> tuple[str, dict[str, Any] | None]:
    """(our type name, enum string -> Python value) for a non-optional, non-list annotation."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        mapping = _enum_strings([member.value for member in annotation], where=where)
        return "enum", {key: annotation(value) for key, value in mapping.items()}
    if typing.get_origin(annotation) is Literal:
        return "enum", _enum_strings(list(typing.get_args(annotation)), where=where)
    if annotation in _SCALARS:
        return _SCALARS[annotation], None
    raise ToolDefinitionError(f"{where}: unsupported annotation {annotation!r}; use {_SUPPORTED}")


def _parameter_definition(
    parameter: inspect.Parameter, annotation: Any, *, description: str, where: str
) -> tuple[ToolParameterDefinition, dict[str, Any] | None, bool]:
    """(definition, enum mapping, nullable)."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) != 1:
            raise ToolDefinitionError(f"{where}: unions other than Optional[X] are not supported")
        nullable, annotation = True, members[0]
        origin = typing.get_origin(annotation)

    enum_mapping: dict[str, Any] | None
    if annotation is list or origin is list:
        arguments = typing.get_args(annotation)
        if len(arguments) != 1:
            raise ToolDefinitionError(f"{where}: a list needs its element type, e.g. list[str]")
        items, enum_mapping = _annotation_type(arguments[0], where=f"{where} (list element)")
        kind: str = "list"
    else:
        kind, enum_mapping = _annotation_type(annotation, where=where)
        items = None
    definition = ToolParameterDefinition(
        name=parameter.name,
        type=kind,
        description=description,
        required=not nullable and parameter.default is inspect.Parameter.empty,
        enum=tuple(enum_mapping) if enum_mapping else (),
        items=items,
    )
    return definition, enum_mapping, nullable


def _tool_build(
    function: Callable[..., Any], *, name: str | None, consequential: bool, timeout_seconds: float
) -> RegisteredTool:
    tool_name = str(name or getattr(function, "__name__", ""))
    where = f"tool {tool_name!r} ({getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')})"
    if not callable(function):
        raise ToolDefinitionError(f"{where}: @tool decorates functions")
    docstring = docstring_parse(function)
    if not docstring.summary:
        raise ToolDefinitionError(f"{where}: needs a docstring; its summary is the description the model sees")
    try:
        hints = typing.get_type_hints(function)
    except Exception as error:
        raise ToolDefinitionError(f"{where}: cannot resolve its annotations ({error})") from error

    parameters: list[ToolParameterDefinition] = []
    enum_values: dict[str, Mapping[str, Any]] = {}
    none_when_absent: set[str] = set()
    context_parameter: str | None = None
    for parameter in inspect.signature(function).parameters.values():
        parameter_where = f"{where}, parameter {parameter.name!r}"
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise ToolDefinitionError(f"{parameter_where}: *args and **kwargs cannot be described to a model")
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise ToolDefinitionError(f"{parameter_where}: tools are called with keyword arguments")
        if parameter.name not in hints:
            raise ToolDefinitionError(f"{parameter_where}: needs a type annotation")
        annotation = hints[parameter.name]
        if annotation is ToolContext or annotation == ToolContext | None:
            context_parameter = parameter.name
            continue
        definition, mapping, nullable = _parameter_definition(
            parameter, annotation, description=docstring.arguments.get(parameter.name, ""), where=parameter_where
        )
        parameters.append(definition)
        if mapping:
            enum_values[parameter.name] = mapping
        if nullable and parameter.default is inspect.Parameter.empty:
            none_when_absent.add(parameter.name)

    described = {parameter.name for parameter in parameters}
    stray = sorted(set(docstring.arguments) - described - {context_parameter})
    if stray:
        raise ToolDefinitionError(f"{where}: the docstring describes unknown parameter(s) {', '.join(stray)}")
    return RegisteredTool(
        definition=ToolDefinition(
            name=tool_name,
            description=docstring.summary,
            parameters=tuple(parameters),
            consequential=consequential,
            timeout_seconds=timeout_seconds,
        ),
        function=function,
        context_parameter=context_parameter,
        enum_values=enum_values,
        none_when_absent=frozenset(none_when_absent),
    )


def tool_register(registered: RegisteredTool) -> None:
    """Add a tool. A name already taken by another function is an error; the same function
    registering again (a module reloaded) replaces its entry."""
    with _registry_lock:
        existing = _registry.get(registered.definition.name)
        if existing is not None and _qualified_name(existing.function) != _qualified_name(registered.function):
            raise ToolDefinitionError(
                f"tool name {registered.definition.name!r} is already registered by {_qualified_name(existing.function)}"
            )
        _registry[registered.definition.name] = registered


def _qualified_name(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"


def tool_unregister(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)


@overload
def tool(function: FunctionT, /) -> FunctionT: ...


@overload
def tool(
    *, name: str | None = None, consequential: bool = False, timeout_seconds: float = 10.0
) -> Callable[[FunctionT], FunctionT]: ...


def tool(
    function: Any = None, /, *, name: str | None = None, consequential: bool = False, timeout_seconds: float = 10.0
) -> Any:
    """Register a function as a tool: `@tool` or `@tool(name=..., consequential=..., timeout_seconds=...)`.
    The function is returned unchanged, so it can still be called directly."""

    def decorate(target: FunctionT) -> FunctionT:
        tool_register(_tool_build(target, name=name, consequential=consequential, timeout_seconds=timeout_seconds))
        return target

    return decorate(function) if function is not None else decorate


def tool_modules_load(modules: list[str] | None = None) -> list[str]:
    """Import the modules that define tools (settings.DECORUM_TOOL_MODULES by default). A module that
    does not exist is logged and skipped; one that exists but fails to import raises."""
    if modules is None:
        from django.conf import settings

        modules = list(getattr(settings, "DECORUM_TOOL_MODULES", []))
    loaded: list[str] = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name is None or not (module == error.name or module.startswith(error.name + ".")):
                raise  # the module exists but one of its own imports is missing
            logger.warning("tool module %s not found; its tools are unavailable", module)
            continue
        loaded.append(module)
    return loaded


def _ensure_modules_loaded() -> None:
    global _modules_loaded
    if _modules_loaded:
        return
    with _load_lock:
        if not _modules_loaded:
            tool_modules_load(list(BUILTIN_TOOL_MODULES))
            tool_modules_load()
            _modules_loaded = True


def registered_tool(name: str) -> RegisteredTool:
    _ensure_modules_loaded()
    with _registry_lock:
        registered = _registry.get(name)
    if registered is None:
        raise ToolNotFound(f"no Python tool named {name!r} is registered")
    return registered


def registered_tools() -> list[RegisteredTool]:
    """Every registered tool, by name."""
    _ensure_modules_loaded()
    with _registry_lock:
        return [_registry[name] for name in sorted(_registry)]
