"""Validation of behavior rows against the rest of the agent's model (relationships, journey graphs).

Models are imported inside functions: behavior.models imports this package's pure rules at load time.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from behavior.validation.rules import CYCLE_GROUPS, find_cycle, relationship_kind_allowed

if TYPE_CHECKING:
    from behavior.models import Journey, Relationship

ENDPOINT_TYPES = ("guideline", "tag", "journey", "tool")


def _endpoint_label(endpoint_type: str, ref: str) -> str:
    return ref if endpoint_type == "guideline" else f"{endpoint_type} {ref}"


def _relationship_node(relationship: Relationship, side: str) -> tuple[str, int | None]:
    endpoint_type = getattr(relationship, f"{side}_type")
    return endpoint_type, getattr(relationship, f"{side}_{endpoint_type}_id", None)


def relationship_validate(relationship: Relationship) -> None:
    """Check one relationship (saved or not) against its agent's model; raise ValidationError naming the problem.

    Checks: exactly the endpoint FK of each type is set, the kind fits the endpoint types, no self-loop,
    endpoints of the relationship's agent, no duplicate, and no overrides / depends_on cycle.
    """
    for side in ("source", "target"):
        endpoint_type = getattr(relationship, f"{side}_type")
        if endpoint_type not in ENDPOINT_TYPES:
            raise ValidationError({f"{side}_type": f"Unknown {side} type {endpoint_type!r}."})
        for other in ENDPOINT_TYPES:
            is_set = getattr(relationship, f"{side}_{other}_id") is not None
            if other == endpoint_type and not is_set:
                raise ValidationError({f"{side}_{other}": f"The {side} is a {other}: choose which one."})
            if other != endpoint_type and is_set:
                raise ValidationError({f"{side}_{other}": f"The {side} is a {endpoint_type}; leave {other} empty."})

    source = relationship.endpoint("source")
    target = relationship.endpoint("target")
    source_ref = relationship.endpoint_ref("source") or "?"
    target_ref = relationship.endpoint_ref("target") or "?"
    source_is_observation = relationship.source_type == "guideline" and bool(getattr(source, "is_observation", False))
    message = relationship_kind_allowed(
        relationship.kind,
        relationship.source_type,
        relationship.target_type,
        source_is_observation=source_is_observation,
    )
    if message:
        if relationship.kind == "disambiguates" and relationship.source_type == "guideline":
            message = f"{message[:-1]}; {source_ref!r} has an action."
        raise ValidationError({"kind": message})

    if _relationship_node(relationship, "source") == _relationship_node(relationship, "target"):
        raise ValidationError(
            {"target": f"A relationship cannot link {_endpoint_label(relationship.source_type, source_ref)} to itself."}
        )

    for side, endpoint, ref in (("source", source, source_ref), ("target", target, target_ref)):
        endpoint_agent_id = getattr(endpoint, "agent_id", None)
        if endpoint_agent_id is not None and endpoint_agent_id != relationship.agent_id:
            endpoint_type = getattr(relationship, f"{side}_type")
            raise ValidationError({f"{side}_{endpoint_type}": f"The {endpoint_type} {ref!r} belongs to another agent."})

    siblings = type(relationship).objects.filter(agent_id=relationship.agent_id).exclude(pk=relationship.pk)
    duplicate = siblings.filter(
        kind=relationship.kind,
        source_type=relationship.source_type,
        target_type=relationship.target_type,
        **{
            f"source_{relationship.source_type}_id": _relationship_node(relationship, "source")[1],
            f"target_{relationship.target_type}_id": _relationship_node(relationship, "target")[1],
        },
    )
    if duplicate.exists():
        raise ValidationError(
            f"This agent already has {relationship.source_type} {source_ref!r} "
            f"{relationship.kind} {relationship.target_type} {target_ref!r}."
        )

    if relationship.kind in CYCLE_GROUPS:
        cycle = _relationship_cycle(relationship, siblings.filter(kind__in=CYCLE_GROUPS[relationship.kind]))
        if cycle:
            raise ValidationError({"kind": f"{relationship.kind} cycle: {' → '.join(cycle)}"})


def _relationship_cycle(relationship: Relationship, siblings: Any) -> list[str] | None:
    """A cycle the new relationship would close, as endpoint labels, or None.

    The graph holds the relationships as written (tag nodes included) plus, for tags, the edges between
    their members, so "G1 overrides tag T" and "a member of T overrides G1" is caught too.
    """
    from behavior.models import Guideline, Journey

    rows = [*siblings.select_related(*_endpoint_relations()), relationship]
    labels: dict[Hashable, str] = {}

    def node(row: Relationship, side: str) -> tuple[str, int | None]:
        key = _relationship_node(row, side)
        labels[key] = _endpoint_label(key[0], row.endpoint_ref(side) or "?")
        return key

    tag_ids = {
        getattr(row, f"{side}_tag_id")
        for row in rows
        for side in ("source", "target")
        if getattr(row, f"{side}_type") == "tag"
    }
    members: dict[int, list[tuple[str, int]]] = {tag_id: [] for tag_id in tag_ids}
    if tag_ids:
        for model, endpoint_type in ((Guideline, "guideline"), (Journey, "journey")):
            tagged = model.objects.filter(agent_id=relationship.agent_id, tags__in=tag_ids).values_list(
                "pk", "key", "tags"
            )
            for pk, ref, tag_id in tagged:
                members[tag_id].append((endpoint_type, pk))
                labels[(endpoint_type, pk)] = _endpoint_label(endpoint_type, ref)

    edges: list[tuple[Hashable, Hashable]] = []
    for row in rows:
        source, target = node(row, "source"), node(row, "target")
        edges.append((source, target))
        sources = members.get(source[1] or 0, []) if source[0] == "tag" else [source]
        targets = members.get(target[1] or 0, []) if target[0] == "tag" else [target]
        if source[0] == "tag" or target[0] == "tag":
            edges.extend(
                (member_source, member_target)
                for member_source in sources
                for member_target in targets
                if member_source != member_target
            )
    cycle = find_cycle(edges)
    return [labels[item] for item in cycle] if cycle else None


def _endpoint_relations() -> list[str]:
    return [
        f"{side}_{endpoint_type}"
        for side in ("source", "target")
        for endpoint_type in ("guideline", "tag", "journey", "tool")
    ]


@dataclass
class JourneyReport:
    """The outcome of journey_validate: errors block publishing, warnings are shown to the editor."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def journey_validate(journey: Journey) -> JourneyReport:
    """Check a saved journey's graph: one initial state, transitions inside the journey, tool states with a
    tool; warn about states unreachable from the initial state."""
    report = JourneyReport()
    states = list(journey.states.select_related("tool"))
    transitions = list(journey.transitions.select_related("source__journey", "target__journey"))
    initial = [state for state in states if state.initial]
    if not states:
        report.errors.append(f"Journey {journey.key!r} has no states.")
    elif not initial:
        report.errors.append(f"Journey {journey.key!r} has no initial state.")
    elif len(initial) > 1:
        keys = ", ".join(repr(state.key) for state in initial)
        report.errors.append(f"Journey {journey.key!r} has more than one initial state: {keys}.")
    for state in states:
        if state.kind == "tool" and state.tool_id is None:
            report.errors.append(f"Tool state {state.key!r} has no tool.")
        tool = state.tool if state.tool_id is not None else None
        if tool is not None and tool.agent_id != journey.agent_id:
            report.errors.append(f"State {state.key!r} uses tool {tool.name!r} of another agent.")
    own_state_ids = {state.pk for state in states}
    adjacency: dict[int, list[int]] = {state.pk: [] for state in states}
    for transition in transitions:
        foreign = [state for state in (transition.source, transition.target) if state.pk not in own_state_ids]
        for state in foreign:
            report.errors.append(
                f"Transition {transition.source.key!r} → {transition.target.key!r} references state "
                f"{state.key!r} of journey {state.journey.key!r}."
            )
        if not foreign:
            adjacency[transition.source_id].append(transition.target_id)
    if len(initial) >= 1:
        reached = {state.pk for state in initial}
        frontier = list(reached)
        while frontier:
            for next_id in adjacency[frontier.pop()]:
                if next_id not in reached:
                    reached.add(next_id)
                    frontier.append(next_id)
        for state in states:
            if state.pk not in reached:
                report.warnings.append(f"State {state.key!r} is unreachable from the initial state.")
    return report
