"""Checks about tools: tools that no guideline, journey state or context variable can call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behavior.lint.findings import Finding, entries


def tool_findings(document: Mapping[str, Any]) -> list[Finding]:
    callable_tools: set[str] = set()
    for guideline in entries(document, "guidelines"):
        callable_tools.update(str(tool) for tool in guideline.get("tools") or [])
    for journey in entries(document, "journeys"):
        for state in journey.get("states") or []:
            if isinstance(state, Mapping):
                callable_tools.update(str(tool) for tool in state.get("tools") or [])
                if state.get("tool"):
                    callable_tools.add(str(state.get("tool")))
    for variable in entries(document, "context_variables"):
        if variable.get("tool"):
            callable_tools.add(str(variable.get("tool")))
    findings: list[Finding] = []
    for index, tool in enumerate(entries(document, "tools")):
        name = str(tool.get("name"))
        if name in callable_tools:
            continue
        findings.append(
            Finding(
                severity="warning",
                code="tool-unused",
                message=(
                    f"Tool {name} is never called: no guideline, journey state or context variable uses it. "
                    "Attach it where it is needed, or delete it."
                ),
                entity="tool",
                ref=name,
                path=f"tools[{index}]",
            )
        )
    return findings
