"""Journeys: multi-step procedures as graphs of states and transitions, and their validation report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q

from agents.models import Agent, Tool
from behavior.models import (
    CannedResponse,
    ContextVariable,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Relationship,
    StateKind,
    Tag,
)
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    invalid,
    row_clean,
    row_referenced,
    rows_referenced,
    tags_resolve,
    unique_or_conflict,
)
from behavior.validation import journey_validate
from config.errors import Conflict

JOURNEY_FIELDS = ("key", "title", "description", "conditions")
STATE_FIELDS = ("key", "kind", "action", "initial", "position")
# Entities that can be scoped to a journey by its tag: (kind, model, attribute naming a row).
SCOPE_TAGGED: tuple[tuple[str, Any, str], ...] = (
    ("guidelines", Guideline, "key"),
    ("journeys", Journey, "key"),
    ("glossary_terms", GlossaryTerm, "name"),
    ("context_variables", ContextVariable, "name"),
    ("canned_responses", CannedResponse, "key"),
)


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _journey_write(journey: Journey, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None) -> Journey:
    before = write_begin(journey, revision=revision)
    old_scope_tag = journey.scope_tag_name if journey.pk else None
    fields_apply(journey, data, JOURNEY_FIELDS)
    unique_or_conflict(
        Journey.objects.filter(agent_id=journey.agent_id),
        field="key",
        value=journey.key,
        what="A journey of this agent",
        exclude=journey.pk,
    )
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    triggers = None
    if data.get("triggers") is not None:
        guidelines = Guideline.objects.filter(agent_id=journey.agent_id)
        triggers = rows_referenced(guidelines, data["triggers"], path="triggers", what="guideline of this agent")
    row_clean(journey)
    with conflict_on_integrity_error(f"This agent already has a journey with key {journey.key!r}."):
        journey.save()
        if tags is not None:
            journey.tags.set(tags)
        if triggers is not None:
            journey.triggers.set(triggers)
        if old_scope_tag is not None and old_scope_tag != journey.scope_tag_name:
            _scope_retag(journey.agent_id, old=old_scope_tag, new=journey.scope_tag_name)
        write_finish(journey, before, actor=actor)
    return journey


def _scoped_to(agent_id: int, tag_name: str) -> dict[str, list[str]]:
    """What of this agent carries the journey's scope tag: {kind: [names]} (tags are shared by agents)."""
    found: dict[str, list[str]] = {}
    for kind, model, label in SCOPE_TAGGED:
        rows = model.objects.filter(agent_id=agent_id, tags__name=tag_name)
        names = [str(getattr(row, label)) for row in rows.order_by("pk")]
        if names:
            found[kind] = names
    relationships = Relationship.objects.filter(agent_id=agent_id).filter(
        Q(source_tag__name=tag_name) | Q(target_tag__name=tag_name)
    )
    if count := relationships.count():
        found["relationships"] = [f"{count} relationship(s) with the tag as an endpoint"]
    return found


def _scope_retag(agent_id: int, *, old: str, new: str) -> None:
    """A renamed journey keeps what was scoped to it: this agent's entities and relationships move from the
    old `journey:<key>` tag to the new one (other agents' journeys of the old key keep theirs)."""
    old_tag = Tag.objects.filter(name=old).first()
    if old_tag is None:
        return
    (new_tag,) = tags_resolve([new])
    for _kind, model, _label in SCOPE_TAGGED:
        for row in model.objects.filter(agent_id=agent_id, tags=old_tag):
            row.tags.remove(old_tag)
            row.tags.add(new_tag)
    Relationship.objects.filter(agent_id=agent_id, source_tag=old_tag).update(source_tag=new_tag)
    Relationship.objects.filter(agent_id=agent_id, target_tag=old_tag).update(target_tag=new_tag)


def journey_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> Journey:
    """Create a journey from JOURNEY_FIELDS, `tags` (names) and `triggers` (ids of the agent's guidelines).
    States and transitions are added with journey_state_create and journey_transition_create."""
    return _journey_write(Journey(agent=agent), data, actor=actor)


def journey_update(journey: Journey, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None) -> Journey:
    return _journey_write(journey, data, actor=actor, revision=revision)


@transaction.atomic
def journey_delete(journey: Journey, *, actor: Actor) -> None:
    """Delete a journey with its states, transitions and relationships. Refused (409) while entities of the
    agent are scoped to it with its `journey:<key>` tag: deleting would silently make them apply always."""
    scoped = _scoped_to(journey.agent_id, journey.scope_tag_name)
    if scoped:
        listed = "; ".join(f"{kind}: {', '.join(names[:5])}" for kind, names in scoped.items())
        raise Conflict(
            f"Entities are scoped to this journey with the tag {journey.scope_tag_name!r} ({listed}). "
            "Remove the tag from them, or delete them, first.",
            details={"scoped": scoped},
            code="journey_in_use",
        )
    delete_record(journey, actor=actor)
    journey.delete()


def _state_rules(state: JourneyState) -> None:
    """The document's rules for one state, checked now so that a draft built through the API publishes."""
    if state.kind == StateKind.CHAT and not (state.action or "").strip():
        raise invalid("action", "a chat state needs an action")
    if state.kind == StateKind.END and state.initial:
        raise invalid("initial", "an end state cannot be the initial state")
    if state.kind == StateKind.END and state.pk and state.outgoing_transitions.exists():
        raise invalid("kind", "an end state cannot have outgoing transitions; delete them first")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _state_write(
    state: JourneyState, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> JourneyState:
    before = write_begin(state, revision=revision)
    fields_apply(state, data, STATE_FIELDS)
    if state.action is None:
        state.action = ""
    journey = state.journey
    if state.position is None:  # appended after the journey's last state
        last = journey.states.exclude(pk=state.pk).aggregate(last=Max("position"))["last"]
        state.position = 0 if last is None else last + 1
    own_tools = Tool.objects.filter(agent_id=journey.agent_id)
    if "tool" in data:
        state.tool = row_referenced(own_tools, data["tool"], path="tool", what="tool of this agent")
    tools = (
        rows_referenced(own_tools, data["tools"], path="tools", what="tool of this agent")
        if data.get("tools") is not None
        else None
    )
    unique_or_conflict(
        journey.states.all(), field="key", value=state.key, what=f"A state of journey {journey.key!r}", exclude=state.pk
    )
    _state_rules(state)
    row_clean(state)
    with conflict_on_integrity_error(f"Journey {journey.key!r} already has a state {state.key!r}."):
        if state.initial:
            # One initial state per journey: making this one initial demotes the previous one.
            journey.states.exclude(pk=state.pk).filter(initial=True).update(initial=False, revision=F("revision") + 1)
        state.save()
        if tools is not None:
            state.tools.set(tools)
        write_finish(state, before, actor=actor)
    return state


def journey_state_create(journey: Journey, *, data: Mapping[str, Any], actor: Actor) -> JourneyState:
    """Add a state (`key`, `kind`, `action`, `tool` id, `initial`, `tools` ids, `position`, appended when
    absent). Marking it initial demotes the journey's current initial state."""
    return _state_write(JourneyState(journey=journey, position=None), data, actor=actor)  # type: ignore[misc]


def journey_state_update(
    state: JourneyState, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> JourneyState:
    return _state_write(state, data, actor=actor, revision=revision)


@transaction.atomic
def journey_state_delete(state: JourneyState, *, actor: Actor) -> None:
    """Delete a state with its transitions."""
    delete_record(state, actor=actor)
    state.delete()


LAYOUT_MAX_COORDINATE = 1_000_000.0


def journey_layout_save(journey: Journey, *, positions: list[Mapping[str, Any]]) -> int:
    """Store where the graph editor draws states: [{"id": state id, "x": ..., "y": ...}]. Layout is not
    behavior: it is not in the document, not audited, and does not bump revisions (moving a node never
    conflicts with someone editing its action). Returns how many states moved; refuses ids of other journeys."""
    if len(positions) > 1000:
        raise invalid("positions", "at most 1000 positions at once")
    own = set(journey.states.values_list("pk", flat=True))
    cleaned: list[tuple[int, float, float]] = []
    for index, position in enumerate(positions):
        state_id, x, y = position.get("id"), position.get("x"), position.get("y")
        if not isinstance(state_id, int) or isinstance(state_id, bool) or state_id not in own:
            raise invalid(f"positions[{index}].id", f"no state {state_id!r} in journey {journey.key!r}")
        for name, value in (("x", x), ("y", y)):
            if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > LAYOUT_MAX_COORDINATE:
                raise invalid(
                    f"positions[{index}].{name}",
                    f"a number between -{LAYOUT_MAX_COORDINATE:g} and {LAYOUT_MAX_COORDINATE:g}",
                )
        cleaned.append((state_id, float(x), float(y)))  # type: ignore[arg-type]
    with transaction.atomic():
        for state_id, x, y in cleaned:
            JourneyState.objects.filter(pk=state_id, journey=journey).update(layout_x=x, layout_y=y)
    return len(cleaned)


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _transition_write(
    transition: JourneyTransition, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> JourneyTransition:
    before = write_begin(transition, revision=revision)
    journey = transition.journey
    states = journey.states.all()
    for side in ("source", "target"):
        if side in data and isinstance(data[side], str):  # a state key instead of an id
            state = states.filter(key=data[side]).first()
            if state is None:
                raise invalid(side, f"unknown state {data[side]!r} in journey {journey.key!r}")
            setattr(transition, side, state)
        elif side in data:
            state = row_referenced(states, data[side], path=side, what=f"state of journey {journey.key!r}")
            setattr(transition, side, state)
    if "condition" in data:
        condition = data["condition"]
        transition.condition = condition if condition is None or condition.strip() else None
    if transition.source.kind == StateKind.END:
        raise invalid("source", f"end state {transition.source.key!r} cannot have outgoing transitions")
    condition_text = (transition.condition or "").strip()
    for other in journey.transitions.filter(source=transition.source, target=transition.target).exclude(
        pk=transition.pk
    ):
        if (other.condition or "").strip() == condition_text:
            raise Conflict(
                f"Journey {journey.key!r} already has this transition {transition} (id {other.pk}).",
                details=[{"path": "", "message": f"duplicate of transition {other.pk}"}],
            )
    row_clean(transition)
    with transaction.atomic():
        transition.save()
        write_finish(transition, before, actor=actor)
    return transition


def journey_transition_create(journey: Journey, *, data: Mapping[str, Any], actor: Actor) -> JourneyTransition:
    """Add a transition between two states of the journey (`source`, `target`: state ids or keys; `condition` or null)."""
    return _transition_write(JourneyTransition(journey=journey), data, actor=actor)


def journey_transition_update(
    transition: JourneyTransition, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> JourneyTransition:
    return _transition_write(transition, data, actor=actor, revision=revision)


@transaction.atomic
def journey_transition_delete(transition: JourneyTransition, *, actor: Actor) -> None:
    delete_record(transition, actor=actor)
    transition.delete()


def journey_report(journey: Journey) -> dict[str, Any]:
    """The journey's validation report: errors (block publishing), warnings, and unreachable state keys."""
    report = journey_validate(journey)
    states = list(journey.states.values_list("pk", "key", "initial"))
    following: dict[int, list[int]] = {}
    for source_id, target_id in journey.transitions.values_list("source_id", "target_id"):
        following.setdefault(source_id, []).append(target_id)
    initial = [pk for pk, _key, is_initial in states if is_initial]
    unreachable: list[str] = []
    if len(initial) == 1:
        reached = set(initial)
        frontier = list(initial)
        while frontier:
            for target_id in following.get(frontier.pop(), []):
                if target_id not in reached:
                    reached.add(target_id)
                    frontier.append(target_id)
        unreachable = [key for pk, key, _initial in states if pk not in reached]
    return {
        "ok": report.ok,
        "errors": list(report.errors),
        "warnings": list(report.warnings),
        "unreachable_states": unreachable,
    }


@transaction.atomic
def journey_state_canned_responses_set(state: JourneyState, *, responses: list[int], actor: Actor) -> None:
    """Which of the agent's canned responses the state offers (ids). The link belongs to the canned response,
    so each response that gains or loses the state is updated (and audited) through its own service."""
    from behavior.services.canned_responses import canned_response_update

    own = CannedResponse.objects.filter(agent_id=state.journey.agent_id)
    chosen = {
        response.pk
        for response in rows_referenced(own, responses, path="canned_responses", what="canned response of this agent")
    }
    current = set(state.canned_responses.values_list("pk", flat=True))
    for response in own.filter(pk__in=chosen ^ current).prefetch_related("journey_states"):
        linked = [linked.pk for linked in response.journey_states.all() if linked.pk != state.pk]
        if response.pk in chosen:
            linked.append(state.pk)
        canned_response_update(response, data={"journey_states": linked}, actor=actor)
