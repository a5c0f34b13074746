"""The one mapping into the engine: a behavior document (docs/behavior-format.md) → `engine.types.Snapshot`.
Pure: no ORM access; the caller produces the document (a published version or the draft)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from behavior.engine.types import (
    AgentSettings,
    CannedField,
    CannedResponse,
    ContextVariable,
    EntityRef,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
    Snapshot,
    Tool,
    ToolParameter,
)

COMPOSITION_MODES = ("fluid", "composited", "strict")
CRITICALITIES = ("low", "medium", "high")
RELATIONSHIP_KINDS = (
    "entails",
    "overrides",
    "depends_on",
    "depends_on_any",
    "disambiguates",
    "reevaluate_after",
    "tools_overlap",
)
ENTITY_TYPES = ("guideline", "tag", "journey", "tool")
STATE_KINDS = ("chat", "tool", "fork", "end")
PARAMETER_TYPES = ("str", "int", "float", "bool", "date", "datetime", "enum", "list")
FIELD_KINDS = ("tool", "generative", "variable")


class SnapshotError(ValueError):
    """The document cannot be turned into a snapshot (the message says where)."""


def snapshot_from_document(document: Mapping[str, Any]) -> Snapshot:
    """Build the engine snapshot. Raises SnapshotError on a structurally broken document."""
    if not isinstance(document, Mapping):
        raise SnapshotError("the document must be a mapping")
    agent = _mapping(document.get("agent"), "agent")
    return Snapshot(
        agent=_agent(agent),
        guidelines=tuple(_guideline(g, i) for i, g in enumerate(_list(document, "guidelines"))),
        relationships=tuple(_relationship(r, i) for i, r in enumerate(_list(document, "relationships"))),
        journeys=tuple(_journey(j, i) for i, j in enumerate(_list(document, "journeys"))),
        glossary=tuple(_term(t, i) for i, t in enumerate(_list(document, "glossary"))),
        variables=tuple(_variable(v, i) for i, v in enumerate(_list(document, "context_variables"))),
        canned_responses=tuple(_canned(c, i) for i, c in enumerate(_list(document, "canned_responses"))),
        tools=tuple(_tool(t, i) for i, t in enumerate(_list(document, "tools"))),
        tags=tuple(
            _str(_mapping(t, f"tags[{i}]").get("name"), f"tags[{i}].name")
            for i, t in enumerate(_list(document, "tags"))
        ),
        fingerprint=document_fingerprint(document),
    )


def document_fingerprint(document: Mapping[str, Any]) -> str:
    """A content hash of the document: equal documents share engine caches (embedding index)."""
    canonical = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------- entities


def _agent(data: Mapping[str, Any]) -> AgentSettings:
    mode = data.get("composition_mode") or "fluid"
    mode = _choice(mode, COMPOSITION_MODES, "agent.composition_mode")
    iterations = _int(data.get("max_preparation_iterations", 2), "agent.max_preparation_iterations")
    return AgentSettings(
        name=_str(data.get("name"), "agent.name"),
        description=_opt_str(data.get("description")) or "",
        model=_opt_str(data.get("model")) or "gpt-4o-mini",
        temperature=_float(data.get("temperature", 0.2), "agent.temperature"),
        llm_profile=_opt_str(data.get("llm_profile")) or "default",
        composition_mode=mode,
        no_match_reply=_opt_str(data.get("no_match_reply")) or AgentSettings.no_match_reply,
        max_preparation_iterations=min(5, max(1, iterations)),
        moderation=bool(data.get("moderation", False)),
        preamble=bool(data.get("preamble", False)),
        tags=_strs(data.get("tags"), "agent.tags"),
    )


def _guideline(raw: Any, index: int) -> Guideline:
    where = f"guidelines[{index}]"
    data = _mapping(raw, where)
    criticality = data.get("criticality") or "medium"
    criticality = _choice(criticality, CRITICALITIES, f"{where}.criticality")
    metadata = data.get("metadata") or {}
    return Guideline(
        key=_str(data.get("key"), f"{where}.key"),
        condition=_str(data.get("condition"), f"{where}.condition"),
        action=_opt_str(data.get("action")) or None,
        title=_opt_str(data.get("title")) or "",
        description=_opt_str(data.get("description")) or "",
        criticality=criticality,
        priority=_int(data.get("priority", 0), f"{where}.priority"),
        enabled=bool(data.get("enabled", True)),
        track=bool(data.get("track", True)),
        continuous=bool(data.get("continuous", False)),
        tags=_strs(data.get("tags"), f"{where}.tags"),
        tools=_strs(data.get("tools"), f"{where}.tools"),
        labels=_strs(data.get("labels"), f"{where}.labels"),
        metadata=dict(_mapping(metadata, f"{where}.metadata")),
    )


def _ref(raw: Any, where: str) -> EntityRef:
    data = _mapping(raw, where)
    kind = data.get("type")
    kind = _choice(kind, ENTITY_TYPES, f"{where}.type")
    return EntityRef(type=kind, ref=_str(data.get("ref"), f"{where}.ref"))


def _relationship(raw: Any, index: int) -> Relationship:
    where = f"relationships[{index}]"
    data = _mapping(raw, where)
    kind = data.get("kind")
    kind = _choice(kind, RELATIONSHIP_KINDS, f"{where}.kind")
    return Relationship(
        kind=kind,
        source=_ref(data.get("source"), f"{where}.source"),
        target=_ref(data.get("target"), f"{where}.target"),
    )


def _journey(raw: Any, index: int) -> Journey:
    where = f"journeys[{index}]"
    data = _mapping(raw, where)
    states = []
    for i, state_raw in enumerate(data.get("states") or []):
        state_where = f"{where}.states[{i}]"
        state = _mapping(state_raw, state_where)
        kind = state.get("kind") or "chat"
        kind = _choice(kind, STATE_KINDS, f"{state_where}.kind")
        tool = _opt_str(state.get("tool")) or None
        if kind == "tool" and not tool:
            raise SnapshotError(f"{state_where}.tool is required for a tool state")
        states.append(
            JourneyState(
                key=_str(state.get("key"), f"{state_where}.key"),
                kind=kind,
                action=_opt_str(state.get("action")) or None,
                tool=tool,
                initial=bool(state.get("initial", False)),
                tools=_strs(state.get("tools"), f"{state_where}.tools"),
                canned_responses=_strs(state.get("canned_responses"), f"{state_where}.canned_responses"),
            )
        )
    if not states:
        raise SnapshotError(f"{where}.states must not be empty")
    keys = {s.key for s in states}
    transitions = []
    for i, transition_raw in enumerate(data.get("transitions") or []):
        transition_where = f"{where}.transitions[{i}]"
        transition = _mapping(transition_raw, transition_where)
        source = _str(transition.get("source"), f"{transition_where}.source")
        target = _str(transition.get("target"), f"{transition_where}.target")
        if source not in keys or target not in keys:
            raise SnapshotError(f"{transition_where} refers to an unknown state")
        transitions.append(
            JourneyTransition(source=source, target=target, condition=_opt_str(transition.get("condition")) or None)
        )
    return Journey(
        key=_str(data.get("key"), f"{where}.key"),
        title=_opt_str(data.get("title")) or _str(data.get("key"), f"{where}.key"),
        description=_opt_str(data.get("description")) or "",
        triggers=_strs(data.get("triggers"), f"{where}.triggers"),
        conditions=_strs(data.get("conditions"), f"{where}.conditions"),
        tags=_strs(data.get("tags"), f"{where}.tags"),
        states=tuple(states),
        transitions=tuple(transitions),
    )


def _term(raw: Any, index: int) -> GlossaryTerm:
    where = f"glossary[{index}]"
    data = _mapping(raw, where)
    return GlossaryTerm(
        name=_str(data.get("name"), f"{where}.name"),
        synonyms=_strs(data.get("synonyms"), f"{where}.synonyms"),
        description=_opt_str(data.get("description")) or "",
        tags=_strs(data.get("tags"), f"{where}.tags"),
    )


def _variable(raw: Any, index: int) -> ContextVariable:
    where = f"context_variables[{index}]"
    data = _mapping(raw, where)
    default: Any = None
    tag_values: dict[str, Any] = {}
    for i, value_raw in enumerate(data.get("values") or []):
        value = _mapping(value_raw, f"{where}.values[{i}]")
        scope = value.get("scope")
        if scope == "default":
            default = value.get("value")
        elif scope == "customer_tag":
            tag_values[_str(value.get("key"), f"{where}.values[{i}].key")] = value.get("value")
        else:
            raise SnapshotError(f"{where}.values[{i}].scope must be default or customer_tag")
    freshness = data.get("freshness_seconds")
    return ContextVariable(
        name=_str(data.get("name"), f"{where}.name"),
        description=_opt_str(data.get("description")) or "",
        tool=_opt_str(data.get("tool")) or None,
        freshness_seconds=None if freshness is None else max(0, _int(freshness, f"{where}.freshness_seconds")),
        tags=_strs(data.get("tags"), f"{where}.tags"),
        default=default,
        tag_values=tag_values,
    )


def _canned(raw: Any, index: int) -> CannedResponse:
    where = f"canned_responses[{index}]"
    data = _mapping(raw, where)
    fields = []
    for i, field_raw in enumerate(data.get("fields") or []):
        field_data = _mapping(field_raw, f"{where}.fields[{i}]")
        kind = field_data.get("kind") or "generative"
        kind = _choice(kind, FIELD_KINDS, f"{where}.fields[{i}].kind")
        fields.append(
            CannedField(
                name=_str(field_data.get("name"), f"{where}.fields[{i}].name"),
                kind=kind,
                description=_opt_str(field_data.get("description")) or "",
            )
        )
    return CannedResponse(
        key=_str(data.get("key"), f"{where}.key"),
        template=_str(data.get("template"), f"{where}.template"),
        fields=tuple(fields),
        signals=_strs(data.get("signals"), f"{where}.signals"),
        tags=_strs(data.get("tags"), f"{where}.tags"),
        guidelines=_strs(data.get("guidelines"), f"{where}.guidelines"),
        journey_states=_strs(data.get("journey_states"), f"{where}.journey_states"),
    )


def _tool(raw: Any, index: int) -> Tool:
    where = f"tools[{index}]"
    data = _mapping(raw, where)
    parameters = []
    for i, parameter_raw in enumerate(data.get("parameters") or []):
        parameter_where = f"{where}.parameters[{i}]"
        parameter = _mapping(parameter_raw, parameter_where)
        kind = parameter.get("type") or "str"
        kind = _choice(kind, PARAMETER_TYPES, f"{parameter_where}.type")
        items = parameter.get("items") or None
        if items is not None:
            items = _choice(items, PARAMETER_TYPES, f"{parameter_where}.items")
        enum = _strs(parameter.get("enum"), f"{parameter_where}.enum")
        if (kind == "enum" or items == "enum") and not enum:
            raise SnapshotError(f"{parameter_where}.enum must list the values of an enum parameter")
        parameters.append(
            ToolParameter(
                name=_str(parameter.get("name"), f"{parameter_where}.name"),
                type=kind,
                description=_opt_str(parameter.get("description")) or "",
                required=bool(parameter.get("required", True)),
                enum=enum,
                items=items,
            )
        )
    timeout = _float(data.get("timeout_seconds", 10), f"{where}.timeout_seconds")
    return Tool(
        name=_str(data.get("name"), f"{where}.name"),
        description=_opt_str(data.get("description")) or "",
        implementation=_opt_str(data.get("implementation")) or "python",
        service=_opt_str(data.get("service")) or None,
        consequential=bool(data.get("consequential", False)),
        timeout_seconds=timeout if timeout > 0 else 10.0,
        parameters=tuple(parameters),
    )


# ---------------------------------------------------------------- field helpers


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise SnapshotError(f"{key} must be a list")
    return list(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SnapshotError(f"{where} must be a mapping")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SnapshotError(f"{where} must be a non-empty string")
    return value.strip()


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip()


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise SnapshotError(f"{where} must be a list")
    return tuple(str(item).strip() for item in value if str(item).strip())


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise SnapshotError(f"{where} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SnapshotError(f"{where} must be an integer") from None


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise SnapshotError(f"{where} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SnapshotError(f"{where} must be a number") from None


def _choice(value: Any, choices: tuple[str, ...], where: str) -> Any:
    """The value, checked against its allowed literals (typed Any so it satisfies the Literal fields)."""
    if value not in choices:
        raise SnapshotError(f"{where} must be one of {', '.join(choices)}")
    return value
