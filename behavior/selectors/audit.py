"""Reads of the audit trail for the studio's history pages: one agent's entries filtered by user and entity, the
users and entity types to filter by, and each entry's changes prepared for display (with the entity's page
when it still exists)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from agents.models import Agent, Tool, ToolService
from behavior.models import (
    AuditEntry,
    BehaviorVersion,
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
)
from behavior.services.text_diff import diff_for_display, field_change

ENTITY_TYPE_LABELS = {
    "agent": "agent",
    "guideline": "guideline",
    "relationship": "relationship",
    "journey": "journey",
    "journey_state": "journey state",
    "journey_transition": "journey transition",
    "glossary_term": "glossary term",
    "context_variable": "context variable",
    "context_value": "context variable value",
    "canned_response": "canned response",
    "tag": "tag",
    "tool": "tool",
    "tool_service": "tool service",
    "toolparameter": "tool parameter",
    "version": "version",
}

# entity type -> (model, the field naming its agent, URL names to try for its page, in order)
_ENTITY_PAGES: dict[str, tuple[type[models.Model], str, tuple[str, ...]]] = {
    "guideline": (Guideline, "agent", ("studio:guideline-detail", "studio:guideline-update")),
    "journey": (Journey, "agent", ("studio:journey-detail", "studio:journey-update")),
    "glossary_term": (GlossaryTerm, "agent", ("studio:glossary-term-detail", "studio:glossary-term-update")),
    "context_variable": (ContextVariable, "agent", ("studio:variable-detail", "studio:variable-update")),
    "canned_response": (
        CannedResponse,
        "agent",
        ("studio:canned-response-detail", "studio:canned-response-update"),
    ),
    "tool": (Tool, "agent", ("studio:tool-detail", "studio:tool-update")),
    "tool_service": (ToolService, "agent", ("studio:tool-service-detail", "studio:tool-service-update")),
    "relationship": (Relationship, "agent", ("studio:relationship-detail", "studio:relationship-update")),
}
# Parts of a journey link to the journey's page.
_JOURNEY_PARTS: dict[str, type[models.Model]] = {"journey_state": JourneyState, "journey_transition": JourneyTransition}

AUDIT_TYPE_MAX_LENGTH = 40


def audit_entries(
    agent: Agent, *, user_id: int | None = None, entity_type: str | None = None, entity_id: int | None = None
) -> QuerySet[AuditEntry]:
    """The agent's audit trail, newest first, optionally only one user's changes or one entity's."""
    entries = AuditEntry.objects.filter(agent=agent).select_related("user")
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    if entity_type:
        entries = entries.filter(entity_type=entity_type)
    if entity_id is not None:
        entries = entries.filter(entity_id=entity_id)
    return entries.order_by("-created_at", "-id")


def audit_entry_get(agent: Agent, entry_id: int) -> AuditEntry:
    from config.errors import NotFound

    entry = AuditEntry.objects.filter(agent=agent, pk=entry_id).select_related("user").first()
    if entry is None:
        raise NotFound(f"Agent {agent.name!r} has no history entry {entry_id}.")
    return entry


def audit_users(agent: Agent) -> list[dict[str, Any]]:
    """The users who changed this agent ({"id", "username"}), by name, for the user filter."""
    rows = (
        AuditEntry.objects.filter(agent=agent, user_id__isnull=False)
        .order_by()
        .values_list("user_id", "username")
        .distinct()
    )
    users: dict[int, str] = {}
    for user_id, username in rows:
        users.setdefault(user_id, username or f"user {user_id}")
    return [{"id": user_id, "username": name} for user_id, name in sorted(users.items(), key=lambda item: item[1])]


def audit_entity_types(agent: Agent) -> list[dict[str, str]]:
    """The entity types that appear in this agent's trail ({"value", "label"})."""
    types = AuditEntry.objects.filter(agent=agent).order_by().values_list("entity_type", flat=True).distinct()
    return sorted(
        ({"value": value, "label": ENTITY_TYPE_LABELS.get(value, value.replace("_", " "))} for value in types),
        key=lambda item: item["label"],
    )


def _first_url(names: Iterable[str], args: list[Any]) -> str | None:
    for name in names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def _entity_urls(agent: Agent, entries: list[AuditEntry]) -> dict[int, str]:
    """entry id -> the page of its entity, for entities that still exist in this agent and have a page."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.entity_id is not None:
            wanted[entry.entity_type].add(entry.entity_id)
    urls_by_entity: dict[tuple[str, int], str] = {}
    for entity_type, ids in wanted.items():
        if entity_type == "agent":
            if agent.pk in ids:
                urls_by_entity[("agent", agent.pk)] = reverse("studio:agent-detail", args=[agent.pk])
        elif entity_type == "version":
            for pk, number in BehaviorVersion.objects.filter(agent=agent, pk__in=ids).values_list("pk", "number"):
                urls_by_entity[("version", pk)] = reverse("studio:version-detail", args=[agent.pk, number])
        elif entity_type in _ENTITY_PAGES:
            model, agent_field, names = _ENTITY_PAGES[entity_type]
            for pk in model._default_manager.filter(**{agent_field: agent}, pk__in=ids).values_list("pk", flat=True):
                url = _first_url(names, [agent.pk, pk])
                if url is not None:
                    urls_by_entity[(entity_type, pk)] = url
        elif entity_type in _JOURNEY_PARTS:
            part = _JOURNEY_PARTS[entity_type]
            rows = part._default_manager.filter(journey__agent=agent, pk__in=ids).values_list("pk", "journey_id")
            for pk, journey_id in rows:
                url = _first_url(_ENTITY_PAGES["journey"][2], [agent.pk, journey_id])
                if url is not None:
                    urls_by_entity[(entity_type, pk)] = url
        elif entity_type == "context_value":
            rows = ContextVariableValue.objects.filter(variable__agent=agent, pk__in=ids).values_list(
                "pk", "variable_id"
            )
            for pk, variable_id in rows:
                url = _first_url(_ENTITY_PAGES["context_variable"][2], [agent.pk, variable_id])
                if url is not None:
                    urls_by_entity[(entity_type, pk)] = url
    return {
        entry.pk: urls_by_entity[(entry.entity_type, entry.entity_id)]
        for entry in entries
        if entry.entity_id is not None and (entry.entity_type, entry.entity_id) in urls_by_entity
    }


def audit_entry_changes(entry: AuditEntry) -> dict[str, Any]:
    """An entry's changes for display: {"fields": [field_change rows], "diff": diff_for_display rows (the draft
    an import or rollback replaced), "truncated": [field names] when only the names were kept}."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    if changes.get("truncated"):
        return {"fields": [], "diff": [], "truncated": [str(name) for name in changes.get("fields") or []]}
    fields, diff = [], []
    for field, value in changes.items():
        if field == "draft" and isinstance(value, list) and all(isinstance(kind, dict) for kind in value):
            diff = diff_for_display(value)
        elif isinstance(value, list | tuple) and len(value) == 2:
            fields.append(field_change(str(field), value[0], value[1]))
        else:
            fields.append(field_change(str(field), None, value))
    return {"fields": fields, "diff": diff, "truncated": []}


def audit_rows(agent: Agent, entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """Entries of one page with what the history page shows: the entry, its entity's type label, the entity's
    page (None when the entity is gone or has no page) and its changes."""
    entries = list(entries)
    urls = _entity_urls(agent, entries)
    return [
        {
            "entry": entry,
            "type_label": ENTITY_TYPE_LABELS.get(entry.entity_type, entry.entity_type.replace("_", " ")),
            "url": urls.get(entry.pk),
            **audit_entry_changes(entry),
        }
        for entry in entries
    ]
