"""Behavior document -> ORM rows: create a new agent or replace an agent's draft behavior.

The whole document is validated before anything is written, and everything is written in one
transaction, so a bad document changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, models, transaction

from agents.models import Agent, Tool, ToolParameter, ToolService
from behavior.documents import BehaviorDocument, document_tags_used, document_validate
from behavior.models import (
    AuditAction,
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
    Tag,
    VariableScope,
)
from behavior.services.audit import Actor, audit_record, draft_changed
from behavior.services.diffing import version_diff
from behavior.services.exporting import agent_export_document
from config.errors import Conflict, NotFound

logger = logging.getLogger(__name__)

_AGENT_FIELDS = (
    "name",
    "description",
    "model",
    "temperature",
    "llm_profile",
    "composition_mode",
    "no_match_reply",
    "max_preparation_iterations",
    "moderation",
    "preamble",
)


def _link(model: type[models.Model], field_name: str, pairs: Iterable[tuple[int, int]]) -> None:
    """Bulk-insert rows of a many-to-many table: (id of `model`, id of the related row)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.ManyToManyField)
    through: Any = field.remote_field.through
    source_column = f"{field.m2m_field_name()}_id"
    target_column = f"{field.m2m_reverse_field_name()}_id"
    rows = [through(**{source_column: source, target_column: target}) for source, target in dict.fromkeys(pairs)]
    through._default_manager.bulk_create(rows)


def _name_clash(name: str) -> Conflict:
    return Conflict(
        f'An agent named "{name}" already exists.',
        details=[{"path": "agent.name", "message": f'an agent named "{name}" already exists'}],
    )


def _tags(document: BehaviorDocument) -> dict[str, int]:
    """Tags are global: reuse existing ones by name, create the others (only those some entity uses)."""
    names = sorted(document_tags_used(document))
    existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent import may create the same tag
        existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    return existing


def _clear_draft(agent: Agent, document: BehaviorDocument) -> None:
    """Delete the agent's draft behavior, keeping the context variables the document still defines so
    their per-customer values (customer data, not behavior) survive the replacement."""
    Relationship.objects.filter(agent=agent).delete()
    CannedResponse.objects.filter(agent=agent).delete()
    Journey.objects.filter(agent=agent).delete()
    Guideline.objects.filter(agent=agent).delete()
    GlossaryTerm.objects.filter(agent=agent).delete()
    kept = [variable.name for variable in document.context_variables]
    ContextVariable.objects.filter(agent=agent).exclude(name__in=kept).delete()
    ContextVariableValue.objects.filter(variable__agent=agent).exclude(scope=VariableScope.CUSTOMER).delete()
    Tool.objects.filter(agent=agent).delete()
    ToolService.objects.filter(agent=agent).delete()


def _agent_for(document: BehaviorDocument, replace_agent: Agent | None) -> Agent:
    name = document.agent.name
    values = {field: getattr(document.agent, field) for field in _AGENT_FIELDS}
    if replace_agent is None:
        if Agent.objects.filter(name=name).exists():
            raise _name_clash(name)
        return Agent.objects.create(**values)
    try:
        agent = Agent.objects.select_for_update().get(pk=replace_agent.pk)
    except Agent.DoesNotExist:
        raise NotFound(f"Agent {replace_agent.pk} no longer exists.") from None
    if Agent.objects.filter(name=name).exclude(pk=agent.pk).exists():
        raise _name_clash(name)
    for field, value in values.items():
        setattr(agent, field, value)
    agent.save()
    _clear_draft(agent, document)
    return agent


def _write_tools(agent: Agent, document: BehaviorDocument) -> dict[str, int]:
    services = ToolService.objects.bulk_create(
        [
            ToolService(agent=agent, name=entry.name, url=entry.url, timeout_seconds=entry.timeout_seconds)
            for entry in document.tool_services
        ]
    )
    service_ids = {service.name: service.pk for service in services}
    tools = Tool.objects.bulk_create(
        [
            Tool(
                agent=agent,
                name=entry.name,
                description=entry.description,
                implementation=entry.implementation,
                service_id=service_ids[entry.service] if entry.service else None,
                consequential=entry.consequential,
                timeout_seconds=entry.timeout_seconds,
            )
            for entry in document.tools
        ]
    )
    ToolParameter.objects.bulk_create(
        [
            ToolParameter(
                tool=tool,
                name=parameter.name,
                type=parameter.type,
                description=parameter.description,
                required=parameter.required,
                enum=list(parameter.enum),
                items=parameter.items,
                position=position,
            )
            for tool, entry in zip(tools, document.tools, strict=True)
            for position, parameter in enumerate(entry.parameters)
        ]
    )
    return {tool.name: tool.pk for tool in tools}


def _write_guidelines(
    agent: Agent, document: BehaviorDocument, tag_ids: dict[str, int], tool_ids: dict[str, int]
) -> dict[str, int]:
    guidelines = Guideline.objects.bulk_create(
        [
            Guideline(
                agent=agent,
                key=entry.key,
                title=entry.title,
                condition=entry.condition,
                action=entry.action,
                description=entry.description,
                criticality=entry.criticality,
                priority=entry.priority,
                enabled=entry.enabled,
                track=entry.track,
                continuous=entry.continuous,
                labels=list(entry.labels),
                metadata=dict(entry.metadata),
            )
            for entry in document.guidelines
        ]
    )
    pairs = list(zip(guidelines, document.guidelines, strict=True))
    _link(Guideline, "tags", ((row.pk, tag_ids[name]) for row, entry in pairs for name in entry.tags))
    _link(Guideline, "tools", ((row.pk, tool_ids[name]) for row, entry in pairs for name in entry.tools))
    return {row.key: row.pk for row in guidelines}


def _write_journeys(
    agent: Agent,
    document: BehaviorDocument,
    tag_ids: dict[str, int],
    tool_ids: dict[str, int],
    guideline_ids: dict[str, int],
) -> tuple[dict[str, int], dict[tuple[str, str], int], dict[tuple[str, str], list[str]]]:
    """Returns journey ids by key, state ids by (journey, state) and each state's canned response keys."""
    journeys = Journey.objects.bulk_create(
        [
            Journey(
                agent=agent,
                key=entry.key,
                title=entry.title,
                description=entry.description,
                conditions=list(entry.conditions),
            )
            for entry in document.journeys
        ]
    )
    pairs = list(zip(journeys, document.journeys, strict=True))
    _link(Journey, "triggers", ((row.pk, guideline_ids[key]) for row, entry in pairs for key in entry.triggers))
    _link(Journey, "tags", ((row.pk, tag_ids[name]) for row, entry in pairs for name in entry.tags))
    states = JourneyState.objects.bulk_create(
        [
            JourneyState(
                journey=journey,
                key=state.key,
                kind=state.kind,
                action=state.action or "",
                tool_id=tool_ids[state.tool] if state.tool else None,
                initial=state.initial,
                position=position,
            )
            for journey, entry in pairs
            for position, state in enumerate(entry.states)
        ]
    )
    entries = [(journey, state) for journey, entry in pairs for state in entry.states]
    state_ids = {(journey.key, state.key): row.pk for row, (journey, state) in zip(states, entries, strict=True)}
    _link(
        JourneyState,
        "tools",
        ((state_ids[(journey.key, state.key)], tool_ids[name]) for journey, state in entries for name in state.tools),
    )
    JourneyTransition.objects.bulk_create(
        [
            JourneyTransition(
                journey=journey,
                source_id=state_ids[(journey.key, transition.source)],
                target_id=state_ids[(journey.key, transition.target)],
                condition=(transition.condition or "").strip() or None,
            )
            for journey, entry in pairs
            for transition in entry.transitions
        ]
    )
    state_canned = {(journey.key, state.key): list(state.canned_responses) for journey, state in entries}
    return {row.key: row.pk for row in journeys}, state_ids, state_canned


def _write_glossary(agent: Agent, document: BehaviorDocument, tag_ids: dict[str, int]) -> None:
    terms = GlossaryTerm.objects.bulk_create(
        [
            GlossaryTerm(agent=agent, name=entry.name, synonyms=list(entry.synonyms), description=entry.description)
            for entry in document.glossary
        ]
    )
    _link(
        GlossaryTerm,
        "tags",
        ((row.pk, tag_ids[name]) for row, entry in zip(terms, document.glossary, strict=True) for name in entry.tags),
    )


def _write_variables(
    agent: Agent, document: BehaviorDocument, tag_ids: dict[str, int], tool_ids: dict[str, int]
) -> None:
    existing = {variable.name: variable for variable in ContextVariable.objects.filter(agent=agent)}
    variables = []
    for entry in document.context_variables:
        variable = existing.get(entry.name) or ContextVariable(agent=agent, name=entry.name)
        variable.description = entry.description
        variable.tool_id = tool_ids[entry.tool] if entry.tool else None
        variable.freshness_seconds = entry.freshness_seconds
        variable.save()
        variable.tags.clear()
        variables.append(variable)
    pairs = list(zip(variables, document.context_variables, strict=True))
    _link(ContextVariable, "tags", ((row.pk, tag_ids[name]) for row, entry in pairs for name in entry.tags))
    ContextVariableValue.objects.bulk_create(
        [
            ContextVariableValue(
                variable=variable,
                scope=value.scope,
                tag_id=tag_ids[value.key] if value.scope == VariableScope.CUSTOMER_TAG and value.key else None,
                value=value.value,
            )
            for variable, entry in pairs
            for value in entry.values
        ]
    )


def _write_canned(
    agent: Agent,
    document: BehaviorDocument,
    tag_ids: dict[str, int],
    guideline_ids: dict[str, int],
    state_ids: dict[tuple[str, str], int],
    state_canned: dict[tuple[str, str], list[str]],
) -> None:
    responses = CannedResponse.objects.bulk_create(
        [
            CannedResponse(
                agent=agent,
                key=entry.key,
                template=entry.template,
                fields=[field.model_dump() for field in entry.fields],
                signals=list(entry.signals),
            )
            for entry in document.canned_responses
        ]
    )
    pairs = list(zip(responses, document.canned_responses, strict=True))
    response_ids = {row.key: row.pk for row in responses}
    _link(CannedResponse, "tags", ((row.pk, tag_ids[name]) for row, entry in pairs for name in entry.tags))
    _link(
        CannedResponse, "guidelines", ((row.pk, guideline_ids[key]) for row, entry in pairs for key in entry.guidelines)
    )
    # The link between a canned response and a journey state may be written on either side of the document.
    links: list[tuple[int, int]] = []
    for row, entry in pairs:
        for reference in entry.journey_states:
            journey_key, state_key = reference.split("/", 1)
            links.append((row.pk, state_ids[(journey_key, state_key)]))
    for state, keys in state_canned.items():
        links.extend((response_ids[key], state_ids[state]) for key in keys)
    _link(CannedResponse, "journey_states", links)


def _write_relationships(
    agent: Agent,
    document: BehaviorDocument,
    ids: dict[str, dict[str, int]],
) -> None:
    rows = []
    for entry in document.relationships:
        row = Relationship(agent=agent, kind=entry.kind, source_type=entry.source.type, target_type=entry.target.type)
        setattr(row, f"source_{entry.source.type}_id", ids[entry.source.type][entry.source.ref])
        setattr(row, f"target_{entry.target.type}_id", ids[entry.target.type][entry.target.ref])
        rows.append(row)
    Relationship.objects.bulk_create(rows)


def agent_import_document(
    document: dict[str, Any], *, actor: Actor, replace_agent: Agent | None = None, action: str = AuditAction.IMPORT
) -> Agent:
    """Import a behavior document.

    With `replace_agent`, that agent's draft behavior is replaced (its versions, sessions and per-customer
    variable values are kept); otherwise a new agent is created and an existing agent with the same name
    raises Conflict. The document is validated completely first (ValidationFailed with every error's
    path); on any error nothing is written. One audit entry records what changed (the diff of the drafts).
    """
    parsed = document_validate(document)
    try:
        with transaction.atomic():
            previous = agent_export_document(replace_agent) if replace_agent is not None else {}
            agent = _agent_for(parsed, replace_agent)
            tag_ids = _tags(parsed)
            agent.tags.set([tag_ids[name] for name in parsed.agent.tags])
            tool_ids = _write_tools(agent, parsed)
            guideline_ids = _write_guidelines(agent, parsed, tag_ids, tool_ids)
            journey_ids, state_ids, state_canned = _write_journeys(agent, parsed, tag_ids, tool_ids, guideline_ids)
            _write_glossary(agent, parsed, tag_ids)
            _write_variables(agent, parsed, tag_ids, tool_ids)
            _write_canned(agent, parsed, tag_ids, guideline_ids, state_ids, state_canned)
            _write_relationships(
                agent, parsed, {"guideline": guideline_ids, "tag": tag_ids, "journey": journey_ids, "tool": tool_ids}
            )
            audit_record(
                actor=actor,
                action=action,
                entity_type="agent",
                entity_id=agent.pk,
                label=agent.name,
                agent_id=agent.pk,
                changes={"draft": version_diff(previous, agent_export_document(agent))},
            )
            draft_changed(agent.pk)
    except IntegrityError as error:
        # Validation mirrors every constraint, so this is a concurrent write (e.g. the same agent name).
        clashing = Agent.objects.filter(name=parsed.agent.name)
        if replace_agent is not None:
            clashing = clashing.exclude(pk=replace_agent.pk)
        if clashing.exists():
            raise _name_clash(parsed.agent.name) from None
        raise Conflict(f"The import conflicts with a concurrent change: {error}") from None
    logger.info(
        "behavior document imported",
        extra={"agent_id": agent.pk, "replaced": replace_agent is not None, "user": actor.user_id},
    )
    return agent
