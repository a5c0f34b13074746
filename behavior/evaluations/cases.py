"""Test case services: create, update (revision-guarded), delete, save a sandbox conversation as a case with
assertions proposed from its traces, and the suite's export and lossless import."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import F

from agents.models import Agent
from behavior.evaluations.format import (
    SUITE_FORMAT,
    SUITE_VERSION,
    CaseDefinition,
    case_data,
    case_parse,
    suite_parse,
)
from behavior.evaluations.models import EvalCase
from behavior.evaluations.observe import turn_observation
from behavior.models import ContextVariableValue, VariableScope
from behavior.services.audit import StaleRevision
from behavior.services.rows import conflict_on_integrity_error, invalid, unique_or_conflict
from config.errors import ValidationFailed

CASES_PER_AGENT_MAX = 2000
_SLUG = re.compile(r"[^a-z0-9]+")


def actor_user(actor: Any) -> Any:
    """The user behind an Actor (or a user given directly), None for the system or an anonymous caller."""
    user = getattr(actor, "user", actor)
    return user if getattr(user, "pk", None) else None


def _fields(definition: CaseDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "name": definition.name,
        "kind": definition.kind,
        "tags": list(definition.tags),
        "definition": case_data(definition),
    }


def case_definition(case: EvalCase) -> CaseDefinition:
    """The stored case as the suite format's model (stored rows were validated when written)."""
    return case_parse(case.definition)


def case_create(*, agent: Agent, data: Mapping[str, Any], actor: Any, source_session: Any = None) -> EvalCase:
    """A new test case from suite-format data; ValidationFailed names the field, a taken key is a Conflict."""
    definition = case_parse(data)
    unique_or_conflict(agent.eval_cases.all(), field="key", value=definition.key, what="A test case")
    if agent.eval_cases.count() >= CASES_PER_AGENT_MAX:
        raise invalid("key", f"an agent holds at most {CASES_PER_AGENT_MAX} test cases")
    with conflict_on_integrity_error(f"A test case with key {definition.key!r} already exists."):
        return EvalCase.objects.create(
            agent=agent, created_by=actor_user(actor), source_session=source_session, **_fields(definition)
        )


def case_update(case: EvalCase, *, data: Mapping[str, Any], actor: Any, revision: int | None = None) -> EvalCase:
    """Replace the case's definition. With `revision`, refused (StaleRevision) when it changed since."""
    definition = case_parse(data)
    unique_or_conflict(
        EvalCase.objects.filter(agent_id=case.agent_id),
        field="key",
        value=definition.key,
        what="A test case",
        exclude=case.pk,
    )
    with conflict_on_integrity_error(f"A test case with key {definition.key!r} already exists."):
        guard = EvalCase.objects.filter(pk=case.pk)
        if revision is not None:
            guard = guard.filter(revision=revision)
        updated = guard.update(revision=F("revision") + 1, **_fields(definition))
    if not updated:
        raise StaleRevision(
            "Someone changed this test case since you opened it; reload it to see their change.",
            details=[{"path": "revision", "message": "stale"}],
        )
    case.refresh_from_db()
    return case


def case_delete(case: EvalCase, *, actor: Any) -> None:
    """Delete a case; past results keep their copy of it."""
    case.delete()


# ---------------------------------------------------------------- from the sandbox


def _key_from(text: str) -> str:
    slug = _SLUG.sub("-", text.lower()).strip("-")[:60].strip("-")
    return slug or "sandbox-case"


def _free_key(agent: Agent, base: str) -> str:
    taken = set(agent.eval_cases.filter(key__startswith=base).values_list("key", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}"[:80] in taken:
        number += 1
    return f"{base}-{number}"[:80]


def proposed_assertions(observation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What one observed turn did, as assertions a tester can keep or edit: the guidelines that reached the reply,
    the tools that ran with their arguments, journey positions, the canned response and a handoff."""
    proposals: list[dict[str, Any]] = []
    for key in observation.get("active") or []:
        proposals.append({"type": "guideline_matched", "guideline": key})
    for item in observation.get("dropped") or []:
        proposals.append({"type": "guideline_dropped", "guideline": item["guideline"], "reason_kind": item["kind"]})
    seen: set[str] = set()
    for call in observation.get("tools") or []:
        if call.get("status") not in ("ok", "error", "timeout") or call["tool"] in seen:
            continue
        seen.add(call["tool"])
        arguments = {name: {"op": "equals", "value": value} for name, value in (call.get("arguments") or {}).items()}
        proposals.append({"type": "tool_called", "tool": call["tool"], "arguments": arguments})
    for move in observation.get("moves") or []:
        if move.get("move") == "enter":
            proposals.append({"type": "journey_entered", "journey": move["journey"]})
        elif move.get("move") == "complete":
            proposals.append({"type": "journey_completed", "journey": move["journey"]})
        elif move.get("move") == "exit":
            proposals.append({"type": "journey_exited", "journey": move["journey"]})
    for journey, state in (observation.get("journeys_after") or {}).items():
        proposals.append({"type": "journey_in_state", "journey": journey, "state": state})
    if observation.get("canned"):
        proposals.append({"type": "canned_used", "canned": observation["canned"]})
    proposals.append({"type": "handoff_requested"} if observation.get("handoff") else {"type": "no_handoff"})
    return proposals


def case_proposal_from_session(session: Any, *, up_to_offset: int | None = None) -> dict[str, Any]:
    """Suite-format data for a case replaying `session`'s customer messages up to `up_to_offset` (a flagged agent
    message: up to the customer message that triggered it), each with assertions proposed from its trace."""
    from sessions.models import Event, EventKind, EventSource, Flag, Trace, Turn

    events = list(Event.objects.filter(session_id=session.pk).order_by("offset"))
    if up_to_offset is not None and not any(event.offset == up_to_offset for event in events):
        raise invalid("offset", f"the session has no event #{up_to_offset}")
    limit = up_to_offset if up_to_offset is not None else (events[-1].offset if events else 0)
    turns_by_trigger = {
        turn.trigger_event_id: turn
        for turn in Turn.objects.filter(session_id=session.pk).exclude(status="superseded").order_by("id")
    }
    traces = {trace.turn_id: trace.data for trace in Trace.objects.filter(turn__session_id=session.pk)}
    customer_messages = [
        event
        for event in events
        if event.kind == EventKind.MESSAGE and event.source == EventSource.CUSTOMER and event.offset <= limit
    ]
    if not customer_messages:
        raise ValidationFailed("The conversation has no customer message to replay (up to that point).")
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(customer_messages):
        turn = turns_by_trigger.get(message.pk)
        turn_events = [
            {"kind": event.kind, "source": event.source, "data": event.data, "offset": event.offset}
            for event in events
            if turn is not None and event.turn_id == turn.pk
        ]
        observation = turn_observation(
            index=index,
            customer_text=str((message.data or {}).get("text") or ""),
            customer_offset=message.offset,
            turn_id=turn.pk if turn else None,
            status=turn.status if turn else "none",
            trace=traces.get(turn.pk) if turn else None,
            events=turn_events,
        )
        assertions = proposed_assertions(observation) if turn is not None and turn.pk in traces else []
        turns.append({"message": observation["customer"][:4000] or "(empty)", "assertions": assertions})
    flags = list(Flag.objects.filter(session_id=session.pk, event__offset__lte=limit).select_related("event"))
    customer = session.customer
    variables = dict(
        ContextVariableValue.objects.filter(
            scope=VariableScope.CUSTOMER, customer_id=customer.pk, variable__agent_id=session.agent_id
        ).values_list("variable__name", "value")
    )
    first = turns[0]["message"]
    description = f"Saved from the sandbox conversation “{session.title or session.uid}”."
    if flags:
        description += " Flagged: " + " / ".join(f"#{flag.event.offset}: {flag.reason}" for flag in flags[:5])
    return {
        "key": _free_key(session.agent, _key_from(first)),
        "name": (first if len(first) <= 80 else first[:79] + "…"),
        "description": description[:4000],
        "kind": "scripted",
        "tags": ["sandbox"],
        "customer": {
            "name": customer.name or "Test customer",
            "tags": sorted(customer.tags.values_list("name", flat=True)),
            "variables": variables,
        },
        "turns": turns,
    }


def case_from_session(
    session: Any, *, actor: Any, up_to_offset: int | None = None, overrides: Mapping[str, Any] | None = None
) -> EvalCase:
    """Save the sandbox conversation as a test case (the proposal, with `overrides` applied)."""
    data = {**case_proposal_from_session(session, up_to_offset=up_to_offset), **dict(overrides or {})}
    return case_create(agent=session.agent, data=data, actor=actor, source_session=session)


# ---------------------------------------------------------------- suites


def suite_export(agent: Agent, *, cases: Iterable[EvalCase] | None = None) -> dict[str, Any]:
    """The agent's test suite (or the given cases) in the documented format."""
    rows = list(cases) if cases is not None else list(agent.eval_cases.order_by("key"))
    return {
        "format": SUITE_FORMAT,
        "version": SUITE_VERSION,
        "agent": agent.name,
        "cases": [case_data(case_definition(row)) for row in rows],
    }


@transaction.atomic  # every case is written, or none
def suite_import(agent: Agent, data: Any, *, actor: Any, replace: bool = False) -> dict[str, int]:
    """Create the suite's cases and update those whose key exists; with `replace`, delete the others.
    Returns counts {created, updated, deleted}."""
    suite = suite_parse(data)
    existing = {case.key: case for case in agent.eval_cases.all()}
    created = updated = 0
    for definition in suite.cases:
        fields = _fields(definition)
        row = existing.get(definition.key)
        if row is None:
            EvalCase.objects.create(agent=agent, created_by=actor_user(actor), **fields)
            created += 1
        elif row.definition != fields["definition"]:
            EvalCase.objects.filter(pk=row.pk).update(revision=F("revision") + 1, **fields)
            updated += 1
    deleted = 0
    if replace:
        keep = {definition.key for definition in suite.cases}
        deleted, _ = agent.eval_cases.exclude(key__in=keep).delete()
    if agent.eval_cases.count() > CASES_PER_AGENT_MAX:
        raise invalid("cases", f"an agent holds at most {CASES_PER_AGENT_MAX} test cases")
    return {"created": created, "updated": updated, "deleted": deleted}
