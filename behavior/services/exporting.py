"""ORM rows of one agent -> its behavior document (the format of docs/behavior-format.md).

Ordering is stable so two exports of the same model are equal and diffs stay small: guidelines,
journeys and canned responses by key; named entities by name; relationships by kind, source, target;
journey states and tool parameters in definition order; transitions in creation order.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from agents.models import Agent, Tool, ToolParameter, ToolService
from behavior.documents import FORMAT, SCHEMA_VERSION
from behavior.models import (
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
    VariableScope,
)


def _names(rows: Any) -> list[str]:
    return sorted(row.name for row in rows)


def _keys(rows: Any) -> list[str]:
    return sorted(row.key for row in rows)


def _agent_section(agent: Agent) -> dict[str, Any]:
    return {
        "name": agent.name,
        "description": agent.description,
        "model": agent.model,
        "temperature": float(agent.temperature),
        "llm_profile": agent.llm_profile,
        "composition_mode": agent.composition_mode,
        "no_match_reply": agent.no_match_reply,
        "max_preparation_iterations": agent.max_preparation_iterations,
        "moderation": agent.moderation,
        "preamble": agent.preamble,
        "tags": _names(agent.tags.all()),
    }


def _guidelines(agent: Agent) -> list[dict[str, Any]]:
    rows = sorted(agent.guidelines.prefetch_related("tags", "tools"), key=lambda row: row.key)
    return [
        {
            "key": guideline.key,
            "title": guideline.title,
            "condition": guideline.condition,
            "action": guideline.action if (guideline.action or "").strip() else None,
            "description": guideline.description,
            "criticality": guideline.criticality,
            "priority": guideline.priority,
            "enabled": guideline.enabled,
            "track": guideline.track,
            "continuous": guideline.continuous,
            "tags": _names(guideline.tags.all()),
            "tools": _names(guideline.tools.all()),
            "labels": list(guideline.labels),
            "metadata": dict(guideline.metadata),
        }
        for guideline in rows
    ]


def _relationships(agent: Agent) -> list[dict[str, Any]]:
    related = [f"{side}_{kind}" for side in ("source", "target") for kind in ("guideline", "tag", "journey", "tool")]
    entries = []
    for relationship in Relationship.objects.filter(agent=agent).select_related(*related):
        entries.append(
            {
                "kind": relationship.kind,
                "source": {"type": relationship.source_type, "ref": relationship.endpoint_ref("source")},
                "target": {"type": relationship.target_type, "ref": relationship.endpoint_ref("target")},
            }
        )
    return sorted(
        entries,
        key=lambda entry: (
            entry["kind"],
            entry["source"]["type"],
            entry["source"]["ref"],
            entry["target"]["type"],
            entry["target"]["ref"],
        ),
    )


def _journeys(agent: Agent) -> list[dict[str, Any]]:
    states = JourneyState.objects.order_by("position", "id").select_related("tool").prefetch_related("tools")
    states = states.prefetch_related(Prefetch("canned_responses", queryset=CannedResponse.objects.only("id", "key")))
    transitions = JourneyTransition.objects.order_by("id").select_related("source", "target")
    rows = sorted(
        Journey.objects.filter(agent=agent).prefetch_related(
            "triggers", "tags", Prefetch("states", queryset=states), Prefetch("transitions", queryset=transitions)
        ),
        key=lambda row: row.key,
    )
    return [
        {
            "key": journey.key,
            "title": journey.title,
            "description": journey.description,
            "triggers": _keys(journey.triggers.all()),
            "conditions": list(journey.conditions),
            "tags": _names(journey.tags.all()),
            "states": [
                {
                    "key": state.key,
                    "kind": state.kind,
                    "action": state.action or None,
                    "tool": state.tool.name if state.tool is not None else None,
                    "initial": state.initial,
                    "tools": _names(state.tools.all()),
                    "canned_responses": _keys(state.canned_responses.all()),
                }
                for state in journey.states.all()
            ],
            "transitions": [
                {
                    "source": transition.source.key,
                    "target": transition.target.key,
                    "condition": transition.condition or None,
                }
                for transition in journey.transitions.all()
            ],
        }
        for journey in rows
    ]


def _glossary(agent: Agent) -> list[dict[str, Any]]:
    rows = sorted(GlossaryTerm.objects.filter(agent=agent).prefetch_related("tags"), key=lambda row: row.name)
    return [
        {
            "name": term.name,
            "synonyms": list(term.synonyms),
            "description": term.description,
            "tags": _names(term.tags.all()),
        }
        for term in rows
    ]


def _variable_values(variable: ContextVariable) -> list[dict[str, Any]]:
    # Per-customer values are customer data, not behavior: they stay out of the document.
    values = [value for value in variable.values.all() if value.scope != VariableScope.CUSTOMER]
    defaults = [{"scope": "default", "key": None, "value": value.value} for value in values if value.scope == "default"]
    tagged = [
        {"scope": "customer_tag", "key": value.tag.name, "value": value.value}
        for value in sorted(values, key=lambda value: value.tag.name if value.tag is not None else "")
        if value.tag is not None
    ]
    return defaults + tagged


def _context_variables(agent: Agent) -> list[dict[str, Any]]:
    values = ContextVariableValue.objects.exclude(scope=VariableScope.CUSTOMER).select_related("tag")
    rows = sorted(
        ContextVariable.objects.filter(agent=agent)
        .select_related("tool")
        .prefetch_related("tags", Prefetch("values", queryset=values)),
        key=lambda row: row.name,
    )
    return [
        {
            "name": variable.name,
            "description": variable.description,
            "tool": variable.tool.name if variable.tool is not None else None,
            "freshness_seconds": variable.freshness_seconds,
            "tags": _names(variable.tags.all()),
            "values": _variable_values(variable),
        }
        for variable in rows
    ]


def _canned_responses(agent: Agent) -> list[dict[str, Any]]:
    rows = sorted(
        CannedResponse.objects.filter(agent=agent).prefetch_related(
            "tags", "guidelines", Prefetch("journey_states", queryset=JourneyState.objects.select_related("journey"))
        ),
        key=lambda row: row.key,
    )
    return [
        {
            "key": response.key,
            "template": response.template,
            "fields": [
                {"name": field["name"], "kind": field["kind"], "description": field.get("description", "")}
                for field in response.fields
            ],
            "signals": list(response.signals),
            "tags": _names(response.tags.all()),
            "guidelines": _keys(response.guidelines.all()),
            "journey_states": sorted(f"{state.journey.key}/{state.key}" for state in response.journey_states.all()),
        }
        for response in rows
    ]


def _tool_services(agent: Agent) -> list[dict[str, Any]]:
    return [
        {"name": service.name, "url": service.url, "timeout_seconds": float(service.timeout_seconds)}
        for service in sorted(ToolService.objects.filter(agent=agent), key=lambda row: row.name)
    ]


def _tools(agent: Agent) -> list[dict[str, Any]]:
    parameters = ToolParameter.objects.order_by("position", "id")
    rows = sorted(
        Tool.objects.filter(agent=agent)
        .select_related("service")
        .prefetch_related(Prefetch("parameters", queryset=parameters)),
        key=lambda row: row.name,
    )
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "implementation": tool.implementation,
            "service": tool.service.name if tool.service is not None else None,
            "consequential": tool.consequential,
            "timeout_seconds": float(tool.timeout_seconds),
            "parameters": [
                {
                    "name": parameter.name,
                    "type": parameter.type,
                    "description": parameter.description,
                    "required": parameter.required,
                    "enum": list(parameter.enum or []),
                    "items": parameter.items or None,
                }
                for parameter in tool.parameters.all()
            ],
        }
        for tool in rows
    ]


def _tags_used(document: dict[str, Any]) -> list[dict[str, str]]:
    """Every tag referenced anywhere in the document (the format requires them declared)."""
    names = set(document["agent"]["tags"])
    for section in ("guidelines", "journeys", "glossary", "context_variables", "canned_responses"):
        for entry in document[section]:
            names.update(entry["tags"])
    for variable in document["context_variables"]:
        names.update(value["key"] for value in variable["values"] if value["scope"] == "customer_tag")
    for relationship in document["relationships"]:
        for side in ("source", "target"):
            if relationship[side]["type"] == "tag":
                names.add(relationship[side]["ref"])
    return [{"name": name} for name in sorted(names)]


def agent_export_document(agent: Agent) -> dict[str, Any]:
    """The agent's current (draft) behavior model as a document dict, JSON-serialisable, stable order."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "agent": _agent_section(agent),
        "tags": [],
        "guidelines": _guidelines(agent),
        "relationships": _relationships(agent),
        "journeys": _journeys(agent),
        "glossary": _glossary(agent),
        "context_variables": _context_variables(agent),
        "canned_responses": _canned_responses(agent),
        "tool_services": _tool_services(agent),
        "tools": _tools(agent),
    }
    document["tags"] = _tags_used(document)
    return document
