"""Guidelines ("when CONDITION, then ACTION"; observations without an action) of an agent's draft."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.models import Agent, Tool
from behavior.models import Guideline
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    row_clean,
    rows_referenced,
    tags_resolve,
    unique_or_conflict,
)

GUIDELINE_FIELDS = (
    "key",
    "title",
    "condition",
    "action",
    "description",
    "criticality",
    "priority",
    "enabled",
    "track",
    "continuous",
    "labels",
    "metadata",
)


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _guideline_write(
    guideline: Guideline, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> Guideline:
    before = write_begin(guideline, revision=revision)
    fields_apply(guideline, data, GUIDELINE_FIELDS)
    unique_or_conflict(
        Guideline.objects.filter(agent_id=guideline.agent_id),
        field="key",
        value=guideline.key,
        what="A guideline of this agent",
        exclude=guideline.pk,
    )
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    tools = None
    if data.get("tools") is not None:
        own_tools = Tool.objects.filter(agent_id=guideline.agent_id)
        tools = rows_referenced(own_tools, data["tools"], path="tools", what="tool of this agent")
    row_clean(guideline)
    with conflict_on_integrity_error(f"This agent already has a guideline with key {guideline.key!r}."):
        guideline.save()
        if tags is not None:
            guideline.tags.set(tags)
        if tools is not None:
            guideline.tools.set(tools)
        write_finish(guideline, before, actor=actor)
    return guideline


def guideline_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> Guideline:
    """Create a guideline from GUIDELINE_FIELDS, `tags` (names) and `tools` (ids of the agent's tools)."""
    return _guideline_write(Guideline(agent=agent), data, actor=actor)


def guideline_update(
    guideline: Guideline, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> Guideline:
    """Change the given fields; `tags` and `tools`, when present, replace the current lists. With `revision`,
    refused (StaleRevision) when the guideline changed since that revision."""
    return _guideline_write(guideline, data, actor=actor, revision=revision)


@transaction.atomic
def guideline_delete(guideline: Guideline, *, actor: Actor) -> None:
    """Delete a guideline with its relationships (journeys and canned responses just lose the link)."""
    delete_record(guideline, actor=actor)
    guideline.delete()


BULK_OPERATIONS = ("tag", "enable", "disable", "delete")


@transaction.atomic  # all selected guidelines change, or none
def guidelines_bulk_apply(guidelines: list[Guideline], *, operation: str, actor: Actor, tag: str | None = None) -> int:
    """Apply one studio bulk action (add a tag, enable, disable, delete) to guidelines the caller already
    narrowed to one agent; each change goes through the single-guideline service (audit, revision)."""
    for guideline in guidelines:
        if operation == "delete":
            guideline_delete(guideline, actor=actor)
        elif operation in ("enable", "disable"):
            if guideline.enabled != (operation == "enable"):
                guideline_update(guideline, data={"enabled": operation == "enable"}, actor=actor)
        elif operation == "tag" and tag:
            names = [existing.name for existing in guideline.tags.all()]
            if tag not in names:
                guideline_update(guideline, data={"tags": [*names, tag]}, actor=actor)
    return len(guidelines)
