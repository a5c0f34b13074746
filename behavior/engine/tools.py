"""Tool calls: typed validation of proposed arguments, overlap and duplicate handling, parallel execution
with timeouts, contained failures, and the insights (questions to the customer) that invalid calls become."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from behavior.engine.ports import ToolCallRequest, ToolOutcome
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import ToolCallProposal
from behavior.engine.trace import ToolCallTrace, json_safe
from behavior.engine.types import Tool, ToolParameter

MAX_STRING_ARGUMENT = 2000
MAX_LIST_ITEMS = 100
_NULLISH = {"", "null", "none", "n/a", "na", "unknown", "?", "tbd", "not provided", "not given", "missing"}
_INT = re.compile(r"^[+-]?\d+(\.0+)?$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class ProposedCall:
    tool: str
    arguments: Mapping[str, Any]
    source: str  # guideline key, "journey:<key>/<state>" or "variable:<name>"
    priority: int = 0


@dataclass(frozen=True)
class ValidatedCall:
    tool: Tool
    arguments: dict[str, Any]
    missing: tuple[ToolParameter, ...] = ()
    invalid: tuple[tuple[ToolParameter, str], ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.missing and not self.invalid


@dataclass
class ToolRun:
    call: ProposedCall
    arguments: dict[str, Any]
    status: str  # ok | error | timeout | invalid | skipped
    outcome: ToolOutcome | None = None
    error: str | None = None
    duration_ms: float = 0.0
    sources: list[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        return call_signature(self.call.tool, self.arguments)


def call_signature(tool: str, arguments: Mapping[str, Any]) -> str:
    return tool + json.dumps(json_safe(dict(arguments)), sort_keys=True)


def proposals_to_calls(
    proposals: Sequence[ToolCallProposal], *, allowed: Sequence[str], source: str, priority: int
) -> list[ProposedCall]:
    """The calls a guideline or journey state may make; tools it does not list are ignored."""
    calls = []
    for proposal in proposals[:5]:
        if proposal.tool not in allowed:
            continue
        arguments = {a.name: a.value for a in proposal.arguments[:50]}
        calls.append(ProposedCall(tool=proposal.tool, arguments=arguments, source=source, priority=priority))
    return calls


# ---------------------------------------------------------------- validation


def tool_call_validate(tool: Tool, arguments: Mapping[str, Any]) -> ValidatedCall:
    """Coerce each argument to its parameter's type; report missing and invalid required ones."""
    values: dict[str, Any] = {}
    missing: list[ToolParameter] = []
    invalid: list[tuple[ToolParameter, str]] = []
    for parameter in tool.parameters:
        raw = arguments.get(parameter.name)
        if _is_nullish(raw):
            if parameter.required:
                missing.append(parameter)
            continue
        try:
            values[parameter.name] = argument_normalize(parameter, raw)
        except ValueError as exc:
            if parameter.required:
                invalid.append((parameter, str(exc)))
    known = {p.name for p in tool.parameters}
    unknown = tuple(sorted(str(name) for name in arguments if name not in known))
    return ValidatedCall(tool=tool, arguments=values, missing=tuple(missing), invalid=tuple(invalid), unknown=unknown)


def argument_normalize(parameter: ToolParameter, raw: Any) -> Any:
    """What the model wrote for a parameter, read leniently ("3" for an int, "yes" for a bool, "a, b" for a list)
    and returned as the canonical JSON value of the declared type (dates as ISO text); ValueError says why not.
    The tool runner later turns canonical values into Python objects (agents.tools.coercion.argument_to_python)."""
    return _coerce(parameter.type, raw, parameter)


def _coerce(kind: str, raw: Any, parameter: ToolParameter) -> Any:
    if kind == "str":
        if isinstance(raw, dict | list):
            raise ValueError("expected text")
        text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
        if len(text) > MAX_STRING_ARGUMENT:
            raise ValueError(f"longer than {MAX_STRING_ARGUMENT} characters")
        return text
    if kind == "int":
        if isinstance(raw, bool):
            raise ValueError("expected a whole number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        text = str(raw).strip().replace(",", "").replace("_", "")
        if not _INT.match(text):
            raise ValueError("expected a whole number")
        return int(float(text)) if "." in text else int(text)
    if kind == "float":
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        try:
            number = float(str(raw).strip().replace(",", "")) if not isinstance(raw, int | float) else float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("expected yes or no")
    if kind == "date":
        text = str(raw).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError("expected a date as YYYY-MM-DD")
        return date.fromisoformat(text).isoformat()
    if kind == "datetime":
        try:
            return datetime.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError("expected a date and time as ISO 8601") from None
    if kind == "enum":
        text = str(raw).strip()
        for option in parameter.enum:
            if option.lower() == text.lower():
                return option
        raise ValueError(f"expected one of {', '.join(parameter.enum)}")
    if kind == "list":
        items = raw
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError("expected a list") from None
            else:
                items = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(items, list):
            raise ValueError("expected a list")
        if len(items) > MAX_LIST_ITEMS:
            raise ValueError(f"more than {MAX_LIST_ITEMS} items")
        item_kind = parameter.items or "str"
        if item_kind == "list":
            raise ValueError("nested lists are not supported")
        return [_coerce(item_kind, item, parameter) for item in items]
    raise ValueError(f"unsupported type {kind}")


def _is_nullish(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        text = raw.strip()
        return text.lower() in _NULLISH or (text.startswith("<") and text.endswith(">"))
    return False


def describe_parameter(parameter: ToolParameter) -> str:
    return f"{parameter.name.replace('_', ' ')}" + (f" ({parameter.description})" if parameter.description else "")


# ---------------------------------------------------------------- execution


async def tool_calls_run(
    runtime: TurnRuntime, calls: Sequence[ProposedCall], *, already: dict[str, ToolRun]
) -> tuple[list[ToolRun], list[str]]:
    """Validate, deduplicate, resolve overlaps and run the valid calls in parallel.
    `already` (signature -> run) holds this turn's earlier runs: an identical call is not repeated.
    Returns (runs, insights for the reply)."""
    snapshot = runtime.snapshot
    index = runtime.index
    insights: list[str] = []
    runs: list[ToolRun] = []
    to_run: dict[str, ToolRun] = {}
    for call in _resolve_overlaps(runtime, calls, overlaps=index.tool_overlaps if index else {}):
        tool = snapshot.tool_by_name.get(call.tool)
        if tool is None:
            runtime.trace.tool_calls.append(
                ToolCallTrace(
                    tool=call.tool,
                    source=call.source,
                    arguments=json_safe(dict(call.arguments)),
                    valid=False,
                    status="invalid",
                    error="unknown tool",
                )
            )
            continue
        validated = tool_call_validate(tool, call.arguments)
        if not validated.valid:
            run = ToolRun(call=call, arguments=validated.arguments, status="invalid", sources=[call.source])
            runs.append(run)
            for parameter in validated.missing:
                insights.append(
                    f"To use the {tool.name} tool you need the customer's {describe_parameter(parameter)}: ask the customer for it (the tool was not run)."
                )
            for parameter, reason in validated.invalid:
                insights.append(
                    f"The {describe_parameter(parameter)} given for the {tool.name} tool is not valid ({reason}): ask the customer for a valid one (the tool was not run)."
                )
            runtime.trace.tool_calls.append(
                ToolCallTrace(
                    tool=tool.name,
                    source=call.source,
                    arguments=json_safe(dict(call.arguments)),
                    valid=False,
                    status="invalid",
                    missing=[p.name for p in validated.missing],
                    invalid=[f"{p.name}: {reason}" for p, reason in validated.invalid],
                )
            )
            await runtime.ports.emitter.tool_event(
                data={
                    "tool": tool.name,
                    "status": "invalid",
                    "missing": [p.name for p in validated.missing],
                    "invalid": [p.name for p, _ in validated.invalid],
                }
            )
            continue
        signature = call_signature(tool.name, validated.arguments)
        if signature in already:
            already[signature].sources.append(call.source)
            continue
        if signature in to_run:
            to_run[signature].sources.append(call.source)
            continue
        to_run[signature] = ToolRun(call=call, arguments=validated.arguments, status="pending", sources=[call.source])
    executed = await asyncio.gather(*(tool_run_execute(runtime, run) for run in to_run.values()))
    for run in executed:
        already[run.signature] = run
        runs.append(run)
        if run.status == "timeout":
            insights.append(
                f"The {run.call.tool} tool did not answer in time: tell the customer you could not complete that step right now."
            )
        elif run.status == "error":
            insights.append(
                f"The {run.call.tool} tool failed: tell the customer you could not complete that step right now."
            )
    return runs, insights


def _resolve_overlaps(
    runtime: TurnRuntime, calls: Sequence[ProposedCall], *, overlaps: Mapping[str, set[str]]
) -> list[ProposedCall]:
    """Of overlapping tools proposed together, keep the call from the higher-priority source (ties: the
    first proposed) and trace the others as skipped."""
    kept: list[ProposedCall] = []
    ordered = sorted(enumerate(calls), key=lambda item: (-item[1].priority, item[0]))
    for _, call in ordered:
        rival = next((k for k in kept if k.tool in overlaps.get(call.tool, set())), None)
        if rival is not None:
            runtime.trace.tool_calls.append(
                ToolCallTrace(
                    tool=call.tool,
                    source=call.source,
                    arguments=json_safe(dict(call.arguments)),
                    valid=True,
                    status="skipped",
                    error=f"overlaps with {rival.tool} (tools_overlap)",
                )
            )
            continue
        kept.append(call)
    return kept


async def tool_run_execute(runtime: TurnRuntime, run: ToolRun) -> ToolRun:
    """Run one validated call with the tool's timeout; failures are contained in the run and traced."""
    tool = runtime.snapshot.tool_by_name[run.call.tool]
    timeout = max(0.001, min(tool.timeout_seconds, runtime.config.tool_max_timeout_seconds))
    request = ToolCallRequest(
        tool_name=tool.name,
        arguments=dict(run.arguments),
        session_id=runtime.interaction.session_id,
        customer_id=runtime.interaction.customer.id,
        timeout_seconds=timeout,
    )
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            outcome = await runtime.ports.tools.run(request)
        run.outcome = outcome if isinstance(outcome, ToolOutcome) else ToolOutcome(data=outcome)
        run.status = "ok"
    except TimeoutError:
        run.status, run.error = "timeout", f"timed out after {timeout:g}s"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a tool's failure must never end the turn; it is traced instead
        run.status, run.error = "error", f"{type(exc).__name__}: {exc}"[:500]
    end = time.perf_counter()
    runtime.tool_waits.add(start, end)
    run.duration_ms = round((end - start) * 1000, 2)
    result = json_safe(run.outcome.data, max_chars=runtime.config.tool_result_max_chars) if run.outcome else None
    runtime.trace.tool_calls.append(
        ToolCallTrace(
            tool=tool.name,
            source=", ".join(run.sources) or run.call.source,
            arguments=json_safe(run.arguments),
            valid=True,
            status=run.status,
            result=result,
            duration_ms=run.duration_ms,
            error=run.error,
        )
    )
    await runtime.ports.emitter.tool_event(
        data={
            "tool": tool.name,
            "arguments": json_safe(run.arguments),
            "status": run.status,
            "duration_ms": run.duration_ms,
            "error": run.error,
            "result": result,
        }
    )
    return run


def tool_result_text(run: ToolRun, *, max_chars: int) -> str:
    """A tool result for prompts, bounded."""
    if run.outcome is None:
        return f"{run.call.tool}: {run.status}" + (f" ({run.error})" if run.error else "")
    try:
        data = json.dumps(json_safe(run.outcome.data, max_chars=max_chars), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        data = repr(run.outcome.data)
    if len(data) > max_chars:
        data = data[:max_chars] + "…"
    arguments = json.dumps(json_safe(run.arguments), ensure_ascii=False, sort_keys=True)
    return f"{run.call.tool}({arguments}) returned: {data}"
