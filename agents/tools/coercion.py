"""Turn a tool call's canonical JSON arguments into the Python values its function takes (dates as `date`,
datetimes as `datetime`), or say precisely why not. The engine has already normalised what the model wrote
(behavior.engine.tools.argument_normalize); this is the runner's strict second step, also used for calls
that did not come through the engine."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from agents.tools.definitions import ToolParameterDefinition
from agents.tools.errors import ToolArgumentError

MAX_STRING_CHARS = 20_000
MAX_LIST_ITEMS = 1_000
_INTEGER = re.compile(r"[+-]?\d{1,30}")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _scalar_coerce(value: Any, kind: str, *, name: str, enum: tuple[str, ...]) -> Any:
    if kind == "str":
        if isinstance(value, str):
            text = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)  # a booking number sent as a JSON number is still the same reference
        else:
            raise ToolArgumentError(f"{name}: expected a string, got {type(value).__name__}")
        if len(text) > MAX_STRING_CHARS:
            raise ToolArgumentError(f"{name}: longer than {MAX_STRING_CHARS} characters")
        return text
    if kind == "int":
        if isinstance(value, bool):
            raise ToolArgumentError(f"{name}: expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value.strip())
        raise ToolArgumentError(f"{name}: expected an integer, got {value!r:.60}")
    if kind == "float":
        if isinstance(value, bool):
            raise ToolArgumentError(f"{name}: expected a number, got a boolean")
        number: float | None = None
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and len(value) <= 64:
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise ToolArgumentError(f"{name}: expected a finite number, got {value!r:.60}")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ToolArgumentError(f"{name}: expected true or false, got {value!r:.60}")
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and len(value) <= 32:
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ToolArgumentError(f"{name}: expected an ISO date (YYYY-MM-DD), got {value!r:.60}")
    if kind == "datetime":
        if isinstance(value, datetime):
            return value
        if isinstance(value, str) and len(value) <= 64:
            try:
                return datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ToolArgumentError(f"{name}: expected an ISO datetime (YYYY-MM-DDTHH:MM:SS), got {value!r:.60}")
    if kind == "enum":
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value) in enum:
            return str(value)
        raise ToolArgumentError(f"{name}: expected one of {', '.join(enum)}, got {value!r:.60}")
    raise ToolArgumentError(f"{name}: unsupported type {kind!r}")


def argument_to_python(value: Any, parameter: ToolParameterDefinition) -> Any:
    """`value` as the parameter's type (enums as their string value). None only for optional parameters."""
    if value is None:
        if parameter.required:
            raise ToolArgumentError(f"{parameter.name}: a value is required")
        return None
    if parameter.type == "list":
        if not isinstance(value, list | tuple):
            raise ToolArgumentError(f"{parameter.name}: expected a list, got {type(value).__name__}")
        if len(value) > MAX_LIST_ITEMS:
            raise ToolArgumentError(f"{parameter.name}: more than {MAX_LIST_ITEMS} items")
        assert parameter.items is not None  # guaranteed by ToolParameterDefinition
        return [
            _scalar_coerce(item, parameter.items, name=f"{parameter.name}[{index}]", enum=parameter.enum)
            for index, item in enumerate(value)
        ]
    return _scalar_coerce(value, parameter.type, name=parameter.name, enum=parameter.enum)


def arguments_to_python(
    arguments: Mapping[str, Any], parameters: tuple[ToolParameterDefinition, ...]
) -> dict[str, Any]:
    """All arguments coerced; unknown names and missing required parameters are errors. Optional
    parameters that are absent stay absent (the tool's own default applies)."""
    declared = {parameter.name: parameter for parameter in parameters}
    unknown = sorted(name for name in arguments if name not in declared)
    if unknown:
        raise ToolArgumentError(f"unknown argument(s): {', '.join(repr(name)[:66] for name in unknown[:10])}")
    missing = [
        parameter.name for parameter in parameters if parameter.required and arguments.get(parameter.name) is None
    ]
    if missing:
        raise ToolArgumentError(f"missing required argument(s): {', '.join(missing)}")
    return {name: argument_to_python(value, declared[name]) for name, value in arguments.items()}
