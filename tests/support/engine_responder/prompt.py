"""Reading the engine's prompts back (behavior/engine/prompts/): the marker lines, the conversation, the listed
guidelines, tools, journey states and transitions, canned responses, tool results and insights."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_MARKER = re.compile(r"^(IDS|CANNED IDS|JOURNEY|CURRENT STATE|STATES): ?(.*)$", re.MULTILINE)
_CUSTOMER = re.compile(r"^(?:#\d+ customer|Customer|Message): (.*)$", re.MULTILINE)
_GUIDELINE = re.compile(
    r"^- \[(?P<key>[^\]\n]+)\](?: \([^)\n]*\))? (?P<kind>OBSERVE:|OBSERVED:|WHEN) (?P<rest>.*)$", re.M
)
_TOOL = re.compile(r"^- (?P<name>[A-Za-z0-9_.-]+)\((?P<params>.*)$", re.MULTILINE)
_STATE = re.compile(
    r"^- \[(?P<key>[^\]\n]+)\] \((?P<kind>tool state: runs (?P<tool>\S+)\)|fork|end|chat)(?P<rest>.*)$", re.M
)
_TRANSITION = re.compile(r"^- (?P<source>\S+) -> (?P<target>\S+)(?: when (?P<condition>.*))?$", re.MULTILINE)
_CANNED = re.compile(r"^- \[(?P<key>[^\]\n]+)\] \"(?P<template>.*?)\"(?: \| fields: (?P<fields>.*))?$", re.MULTILINE)
_RESULT = re.compile(r"^- (?P<tool>[A-Za-z0-9_.-]+)\((?P<args>.*?)\) returned: (?P<data>.*)$", re.MULTILINE)
_STEP = re.compile(r"^- .*?: current step \[[^\]]+\]: (?P<action>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Item:
    key: str
    condition: str
    action: str
    tools: tuple[str, ...] = ()


@dataclass
class PromptView:
    text: str
    markers: dict[str, list[str]] = field(default_factory=dict)
    customer_lines: list[str] = field(default_factory=list)  # newest first

    @classmethod
    def of(cls, messages: list[dict[str, Any]]) -> PromptView:
        # Re-asks append the model's own reply; only the engine's prompt (system + first user message) counts.
        parts = [str(m.get("content") or "") for m in messages[:2] if isinstance(m, dict)]
        text = "\n".join(parts)
        markers: dict[str, list[str]] = {}
        for name, values in _MARKER.findall(text):
            markers[name] = [v.strip() for v in values.split(",") if v.strip()]
        return cls(text=text, markers=markers, customer_lines=[line.strip() for line in _CUSTOMER.findall(text)][::-1])

    def marker(self, name: str) -> list[str]:
        return self.markers.get(name, [])

    @property
    def last_customer(self) -> str:
        return self.customer_lines[0] if self.customer_lines else ""

    @property
    def customer_name(self) -> str:
        found = re.search(r"^- customer name: (.+)$", self.text, re.MULTILINE)
        return found.group(1).strip() if found else ""

    def items(self) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for match in _GUIDELINE.finditer(self.text):
            rest = match.group("rest")
            body, _, marks = rest.partition(" | ")
            condition, _, action = body.partition(" THEN ") if match.group("kind") == "WHEN" else (body, "", "")
            tools = next((m[len("tools: ") :].split(", ") for m in marks.split(" | ") if m.startswith("tools: ")), [])
            found.setdefault(
                match.group("key"), Item(match.group("key"), condition.strip(), action.strip(), tuple(tools))
            )
        return found

    def tool_parameters(self) -> dict[str, list[tuple[str, str, bool]]]:
        """tool -> [(name, kind, required)] from the signatures in the TOOLS section."""
        tools: dict[str, list[tuple[str, str, bool]]] = {}
        for match in _TOOL.finditer(self.text):
            inside = _bracketed(match.group("params"))
            if inside is None:
                continue
            parameters = []
            for part in _split_parameters(inside):
                name, _, kind = part.partition(": ")
                kind = kind.split(" (", 1)[0].strip()
                if name.strip() and kind:
                    parameters.append((name.strip(), kind.rstrip("?"), not kind.endswith("?")))
            tools[match.group("name")] = parameters
        return tools

    def states(self) -> dict[str, tuple[str, str, str]]:
        """state -> (kind, tool, action) of the journey in a step-selection prompt."""
        found = {}
        for match in _STATE.finditer(self.text):
            kind = match.group("kind").split(" ")[0].split(":")[0]
            found[match.group("key")] = (kind, match.group("tool") or "", match.group("rest").strip(") ").strip())
        return found

    def transitions(self) -> list[tuple[str, str, str]]:
        return [
            (m.group("source"), m.group("target"), m.group("condition") or "") for m in _TRANSITION.finditer(self.text)
        ]

    def canned(self) -> dict[str, tuple[str, list[str]]]:
        """canned key -> (template, the fields the model provides)."""
        found = {}
        for match in _CANNED.finditer(self.text):
            fields = [f.split(" (", 1)[0] for f in (match.group("fields") or "").split(", ") if "(you provide" in f]
            found[match.group("key")] = (match.group("template"), fields)
        return found

    def tool_results(self) -> list[tuple[str, Any]]:
        results = []
        for match in _RESULT.finditer(self.text):
            try:
                data: Any = json.loads(match.group("data"))
            except ValueError:
                data = match.group("data")
            results.append((match.group("tool"), data))
        return results

    def section(self, title: str) -> list[str]:
        """The bullet lines of a "## TITLE" section."""
        found = re.search(rf"^## {title}\n(.*?)(?=\n\n|\Z)", self.text, re.MULTILINE | re.DOTALL)
        return [line[2:] for line in found.group(1).splitlines() if line.startswith("- ")] if found else []

    def step_actions(self) -> list[str]:
        return [m.group("action") for m in _STEP.finditer(self.text)]


def _bracketed(text: str) -> str | None:
    """The text up to the ")" closing an already opened "(", when a ": " follows it (a tool signature)."""
    depth = 1
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[:index] if text[index + 1 : index + 3] == ": " else None
    return None


def _split_parameters(text: str) -> list[str]:
    """`a: str (x; y); b: int?` split at the top-level "; " only (descriptions may hold ";" in brackets)."""
    parts, depth, current = [], 0, ""
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0 and text[index + 1 : index + 2] == " ":
            parts.append(current)
            current = ""
            continue
        current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def result_words(data: Any) -> str:
    """A tool result as text for matching transition conditions: top-level values, booleans by their key
    ("found": false reads "not found"), nested structures left out (their keys would match anything)."""
    if not isinstance(data, dict):
        return str(data)[:2000]
    words = []
    for key, value in list(data.items())[:50]:
        if isinstance(value, bool):
            words.append(key.replace("_", " ") if value else f"not {key.replace('_', ' ')}")
        elif isinstance(value, str | int | float):
            words.append(str(value))
    return " ".join(words)
