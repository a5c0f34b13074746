"""Who changed what: the actor of every behavior change, the audit trail with field-level before/after, the
revision check that keeps two editors from overwriting each other, and the agent's draft revision counter.

Every write service takes `actor` and calls, inside its transaction, `write_begin` before touching the row and
`write_finish` after saving it (or `delete_record` before deleting). `write_begin` locks the stored row, refuses
a stale `revision` with StaleRevision (409, the stored values in `details["current"]`), and remembers the stored
values; `write_finish` records what changed and bumps the agent's draft revision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F

from behavior.models import (
    AuditAction,
    AuditEntry,
    AuditSource,
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
)
from config.errors import Conflict

AUDIT_TEXT_MAX_CHARS = 20_000  # a longer value is shortened in the trail (the row keeps the whole text)
AUDIT_CHANGES_MAX_BYTES = 256 * 1024
STALE_REVISION = "stale_revision"


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through what (studio, api, import, command, admin, system)."""

    user: Any = None
    source: str = AuditSource.SYSTEM

    @property
    def username(self) -> str:
        return str(self.user.get_username()) if getattr(self.user, "pk", None) else ""

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


SYSTEM = Actor()


def studio_actor(user: Any) -> Actor:
    return Actor(user=user, source=AuditSource.STUDIO)


class StaleRevision(Conflict):
    """Someone changed the entity since the editor opened it."""

    code = STALE_REVISION


# Entity type names in the trail, and the m2m fields recorded as lists of names/keys.
ENTITY_TYPES: dict[type[models.Model], str] = {
    Guideline: "guideline",
    Relationship: "relationship",
    Journey: "journey",
    JourneyState: "journey_state",
    JourneyTransition: "journey_transition",
    GlossaryTerm: "glossary_term",
    ContextVariable: "context_variable",
    ContextVariableValue: "context_value",
    CannedResponse: "canned_response",
    Tag: "tag",
}
_SKIPPED_FIELDS = frozenset(
    {"id", "agent", "created_at", "updated_at", "revision", "draft_revision", "journey", "layout_x", "layout_y"}
)


_ENTITY_TYPES_BY_LABEL = {"agents.Agent": "agent", "agents.Tool": "tool", "agents.ToolService": "tool_service"}


def entity_type_of(row: models.Model) -> str:
    for model, name in ENTITY_TYPES.items():
        if isinstance(row, model):
            return name
    return _ENTITY_TYPES_BY_LABEL.get(row._meta.label, row._meta.model_name or type(row).__name__.lower())


def agent_id_of(row: models.Model) -> int | None:
    """The agent whose behavior model holds `row` (None for global tags)."""
    from agents.models import Agent

    if isinstance(row, Agent):
        return row.pk
    if hasattr(row, "agent_id"):
        return row.agent_id  # type: ignore[no-any-return]
    if isinstance(row, JourneyState | JourneyTransition):
        return Journey.objects.filter(pk=row.journey_id).values_list("agent_id", flat=True).first()
    if isinstance(row, ContextVariableValue):
        return ContextVariable.objects.filter(pk=row.variable_id).values_list("agent_id", flat=True).first()
    tool_id = getattr(row, "tool_id", None)
    if tool_id is not None:  # a tool parameter
        from agents.models import Tool

        return Tool.objects.filter(pk=tool_id).values_list("agent_id", flat=True).first()
    return None


def _label(value: Any) -> str:
    return str(getattr(value, "key", None) or getattr(value, "name", None) or value)


def _plain(value: Any) -> Any:
    if isinstance(value, str) and len(value) > AUDIT_TEXT_MAX_CHARS:
        return value[:AUDIT_TEXT_MAX_CHARS] + "…"
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def audit_state(row: models.Model, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The row's audited values: plain fields as stored, foreign keys by label, many-to-many as sorted labels."""
    state: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.name in _SKIPPED_FIELDS:
            continue
        if isinstance(field, models.ForeignKey):
            related_id = getattr(row, field.attname)
            state[field.name] = _label(getattr(row, field.name)) if related_id is not None else None
        else:
            state[field.name] = _plain(getattr(row, field.attname))
    if row.pk is not None:
        for field in row._meta.many_to_many:
            state[field.name] = sorted(_label(item) for item in getattr(row, field.name).all())
    if extra:
        state.update({key: _plain(value) for key, value in extra.items()})
    return state


def audit_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value differs (all fields on create and delete)."""
    old, new = dict(before or {}), dict(after or {})
    return {
        field: [old.get(field), new.get(field)]
        for field in dict.fromkeys([*old, *new])
        if old.get(field) != new.get(field)
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    label: str,
    agent_id: int | None,
    changes: Mapping[str, Any],
) -> AuditEntry:
    """Append one entry. Changes larger than AUDIT_CHANGES_MAX_BYTES are replaced by the list of fields."""
    payload: dict[str, Any] = dict(changes)
    if len(json.dumps(payload, default=str)) > AUDIT_CHANGES_MAX_BYTES:
        payload = {"truncated": True, "fields": sorted(payload)[:500]}
    return AuditEntry.objects.create(
        agent_id=agent_id,
        user_id=actor.user_id,
        username=actor.username,
        source=actor.source,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_label=label[:300],
        changes=payload,
    )


def draft_changed(agent_id: int | None) -> None:
    """Bump the agent's draft revision (every agent's, for a change to a global tag)."""
    from agents.models import Agent

    agents = Agent.objects.filter(pk=agent_id) if agent_id is not None else Agent.objects.all()
    agents.update(draft_revision=F("draft_revision") + 1)


@dataclass
class WriteBefore:
    """What `write_begin` learned about the stored row, for `write_finish`."""

    state: dict[str, Any] | None
    agent_id: int | None


def write_begin(
    row: models.Model, *, revision: int | None = None, extra: Mapping[str, Any] | None = None
) -> WriteBefore:
    """Call first, inside the write's transaction. For an existing row: lock it, refuse a stale `revision`
    (StaleRevision with the stored values), remember the stored values, and set `row.revision` to the next one.
    `extra` adds values that are not fields of the row (a tool's parameters) to the remembered state."""
    if row.pk is None:
        if hasattr(row, "revision"):
            row.revision = 1
        return WriteBefore(state=None, agent_id=None)
    model = type(row)
    stored = model._default_manager.select_for_update().filter(pk=row.pk).first()
    if stored is None:
        from config.errors import NotFound

        raise NotFound(f"This {row._meta.verbose_name} was deleted meanwhile.")
    state = audit_state(stored, extra=extra)
    current_revision = getattr(stored, "revision", None)
    if revision is not None and current_revision is not None and revision != current_revision:
        who = AuditEntry.objects.filter(entity_type=entity_type_of(row), entity_id=row.pk).first()
        by = f" by {who.username}" if who is not None and who.username else ""
        raise StaleRevision(
            f"Someone changed this {row._meta.verbose_name} since you opened it{by}. Your edit was not saved: "
            "compare with the current version below, then apply your change again.",
            details={"current": {**state, "revision": current_revision}, "your_revision": revision},
        )
    if current_revision is not None:
        row.revision = current_revision + 1  # type: ignore[attr-defined]
    return WriteBefore(state=state, agent_id=agent_id_of(stored))


def write_finish(
    row: models.Model, before: WriteBefore, *, actor: Actor, extra: Mapping[str, Any] | None = None
) -> AuditEntry | None:
    """Call after saving the row (and its many-to-many links): record what changed and bump the draft revision.
    An update that changed nothing records nothing."""
    after = audit_state(row, extra=extra)
    changes = audit_changes(before.state, after)
    if before.state is not None and not changes:
        return None
    agent_id = agent_id_of(row)
    entry = audit_record(
        actor=actor,
        action=AuditAction.CREATE if before.state is None else AuditAction.UPDATE,
        entity_type=entity_type_of(row),
        entity_id=row.pk,
        label=entity_label(row),
        agent_id=agent_id,
        changes=changes,
    )
    draft_changed(agent_id)
    return entry


def delete_record(row: models.Model, *, actor: Actor, extra: Mapping[str, Any] | None = None) -> None:
    """Call just before deleting `row`: record its last values and bump the draft revision."""
    agent_id = agent_id_of(row)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        entity_type=entity_type_of(row),
        entity_id=row.pk,
        label=entity_label(row),
        agent_id=agent_id,
        changes=audit_changes(audit_state(row, extra=extra), None),
    )
    draft_changed(agent_id)


def entity_label(row: models.Model) -> str:
    if isinstance(row, JourneyState):
        return f"{row.journey.key}/{row.key}"
    if isinstance(row, JourneyTransition):
        return f"{row.journey.key}: {row.source.key} → {row.target.key}"
    if isinstance(row, ContextVariableValue):
        return str(row)
    return _label(row)


def labels(rows: Iterable[Any]) -> list[str]:
    return sorted(_label(row) for row in rows)
