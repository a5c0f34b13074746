"""A lint finding, and how a document path (`journeys[1].states[0].action`) names the entity it is about."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

# Top-level document lists -> (entity type, the field holding the entry's ref).
ENTITY_LISTS: dict[str, tuple[str, str]] = {
    "guidelines": ("guideline", "key"),
    "journeys": ("journey", "key"),
    "canned_responses": ("canned_response", "key"),
    "glossary": ("glossary_term", "name"),
    "context_variables": ("context_variable", "name"),
    "tools": ("tool", "name"),
    "tool_services": ("tool_service", "name"),
    "relationships": ("relationship", ""),
    "tags": ("tag", "name"),
}
_TOP = re.compile(r"^(?P<list>[a-z_]+)\[(?P<index>\d+)\]")
_STATE = re.compile(r"^journeys\[\d+\]\.states\[(?P<index>\d+)\]")


@dataclass(frozen=True)
class Finding:
    """One problem (or hint) about one entity of the draft. `related` names other entities it involves."""

    severity: Severity
    code: str
    message: str
    entity: str
    ref: str
    path: str = ""
    related: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Text of the validation error this finding explains better (that one is then not shown twice).
    covers: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "entity": self.entity,
            "ref": self.ref,
            "path": self.path,
            "related": [list(pair) for pair in self.related],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            severity=data["severity"],
            code=str(data["code"]),
            message=str(data["message"]),
            entity=str(data["entity"]),
            ref=str(data["ref"]),
            path=str(data.get("path") or ""),
            related=tuple((str(pair[0]), str(pair[1])) for pair in data.get("related") or ()),
        )


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Errors first, then by entity and ref, stable otherwise; exact repeats removed."""
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda finding: (SEVERITY_ORDER[finding.severity], finding.entity, finding.ref))


def entries(document: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The dict entries of one top-level list (anything else in it is skipped: validation reports it)."""
    value = document.get(name)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


def endpoint_label(endpoint: Any) -> str:
    if not isinstance(endpoint, Mapping):
        return "?"
    return f"{endpoint.get('type')}:{endpoint.get('ref')}"


def relationship_ref(relationship: Mapping[str, Any]) -> str:
    """How a relationship is named (the version diff's form): `guideline:a overrides guideline:b`."""
    return (
        f"{endpoint_label(relationship.get('source'))} {relationship.get('kind')} "
        f"{endpoint_label(relationship.get('target'))}"
    )


def entry_ref(list_name: str, entry: Any, index: int) -> str:
    entity, ref_field = ENTITY_LISTS[list_name]
    if not isinstance(entry, Mapping):
        return f"#{index}"
    if entity == "relationship":
        return relationship_ref(entry)
    value = entry.get(ref_field)
    return str(value) if isinstance(value, str) and value.strip() else f"#{index}"


def path_entity(document: Mapping[str, Any], path: str) -> tuple[str, str, str | None]:
    """(entity, ref, top-level list) of the entity a validation path points into. A path inside a journey
    state names the state (`journey_state`, "journey/state"); paths outside any entity name the agent."""
    match = _TOP.match(path)
    if match is None or match.group("list") not in ENTITY_LISTS:
        agent = document.get("agent")
        name = agent.get("name") if isinstance(agent, Mapping) else None
        return "agent", str(name or ""), None
    list_name, index = match.group("list"), int(match.group("index"))
    raw = document.get(list_name)
    entry = raw[index] if isinstance(raw, list) and index < len(raw) else None
    entity, _ = ENTITY_LISTS[list_name]
    ref = entry_ref(list_name, entry, index)
    state = _STATE.match(path)
    if state is not None and isinstance(entry, Mapping):
        states = entry.get("states")
        state_index = int(state.group("index"))
        if isinstance(states, list) and state_index < len(states) and isinstance(states[state_index], Mapping):
            state_key = states[state_index].get("key")
            return "journey_state", f"{ref}/{state_key}", list_name
    return entity, ref, list_name
