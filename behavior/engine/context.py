"""Stage 1, context: active journeys, context-variable values (refreshing tool-fed ones whose freshness
expired) and the entity scope rule (journey-tagged entities apply only while their journey is active)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from behavior.engine.runtime import TurnRuntime
from behavior.engine.tools import ProposedCall, ToolRun, tool_run_execute
from behavior.engine.trace import json_safe
from behavior.engine.types import JOURNEY_TAG_PREFIX, CachedVariable, ContextVariable, Snapshot


def entity_in_scope(tags: tuple[str, ...], active_journeys: Mapping[str, str] | set[str]) -> bool:
    journeys = [t[len(JOURNEY_TAG_PREFIX) :] for t in tags if t.startswith(JOURNEY_TAG_PREFIX)]
    return not journeys or any(j in active_journeys for j in journeys)


def active_journeys(snapshot: Snapshot, positions: Mapping[str, str]) -> dict[str, str]:
    """The session's journey positions that still exist in this snapshot."""
    active = {}
    for journey_key, state_key in positions.items():
        journey = snapshot.journey_by_key.get(journey_key)
        if journey is not None and journey.state(state_key) is not None:
            active[journey_key] = state_key
    return active


def variable_static_value(
    variable: ContextVariable, customer_tags: tuple[str, ...], customer_values: Mapping[str, Any]
) -> tuple[Any, str]:
    """(value, source): the customer's own value, else the first matching customer-tag value, else the default."""
    if variable.name in customer_values:
        return customer_values[variable.name], "customer"
    for tag in customer_tags:
        if tag in variable.tag_values:
            return variable.tag_values[tag], f"tag:{tag}"
    return variable.default, "default"


async def variables_refresh(runtime: TurnRuntime, *, journeys: Mapping[str, str]) -> dict[str, CachedVariable]:
    """Resolve every in-scope variable into runtime.variables; refresh expired tool-fed ones in parallel.
    Returns the new tool-fed cache for the session state (failed refreshes keep the stale value)."""
    snapshot, customer, now = runtime.snapshot, runtime.interaction.customer, runtime.ports.clock.now()
    cache: dict[str, CachedVariable] = dict(runtime.state.variables)
    due: list[tuple[ContextVariable, ProposedCall]] = []
    rows: dict[str, dict[str, Any]] = {}
    for variable in snapshot.variables:
        if not entity_in_scope(variable.tags, journeys):
            continue
        value, source = variable_static_value(variable, customer.tags, customer.variables)
        rows[variable.name] = {
            "name": variable.name,
            "value": value,
            "source": source,
            "refreshed": False,
            "error": None,
        }
        if variable.tool and variable.tool in snapshot.tool_by_name:
            cached = cache.get(variable.name)
            if cached is not None and cached.error is None:
                rows[variable.name].update(value=cached.value, source=f"tool:{variable.tool} (cached)")
            if cached is None or _expired(cached, variable, now):
                due.append(
                    (
                        variable,
                        ProposedCall(
                            tool=variable.tool,
                            arguments=_variable_arguments(runtime, variable.tool),
                            source=f"variable:{variable.name}",
                        ),
                    )
                )
    if due:
        runs: list[ToolRun] = await asyncio.gather(
            *(
                tool_run_execute(
                    runtime, ToolRun(call=call, arguments=dict(call.arguments), status="pending", sources=[call.source])
                )
                for _, call in due
            )
        )
        for (variable, _), run in zip(due, runs, strict=True):
            row = rows[variable.name]
            if run.status == "ok" and run.outcome is not None:
                data = run.outcome.data
                value = data.get(variable.name, data) if isinstance(data, Mapping) else data
                cache[variable.name] = CachedVariable(value=json_safe(value), fetched_at=now)
                row.update(value=value, source=f"tool:{variable.tool}", refreshed=True)
            else:
                row["error"] = run.error or run.status
                previous = cache.get(variable.name)
                if previous is None:
                    cache[variable.name] = CachedVariable(value=None, fetched_at=now, error=row["error"])
    runtime.variables = {name: row["value"] for name, row in rows.items() if row["value"] is not None}
    runtime.trace.context["variables"] = [json_safe(row, max_chars=300) for row in rows.values()]
    return cache


def _expired(cached: CachedVariable, variable: ContextVariable, now: Any) -> bool:
    if cached.error is not None:
        return True
    if variable.freshness_seconds is None:
        return False  # fetched once per session
    try:
        return (now - cached.fetched_at).total_seconds() >= variable.freshness_seconds
    except TypeError:  # naive vs aware timestamps: refresh rather than guess
        return True


def _variable_arguments(runtime: TurnRuntime, tool_name: str) -> dict[str, Any]:
    """Variable tools get the customer's id when they declare a customer_id parameter, nothing else."""
    tool = runtime.snapshot.tool_by_name[tool_name]
    customer_id = runtime.interaction.customer.id
    return {p.name: customer_id for p in tool.parameters if p.name == "customer_id" and customer_id}
