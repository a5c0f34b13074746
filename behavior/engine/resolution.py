"""Stage 5, resolution without an LLM: relationships applied deterministically, each decision traced.

Order: dependencies → overrides → entailment → overrides and dependencies again (for what entailment
added) → disambiguation. The rules:
- depends_on: a guideline is dropped while any of its targets is unmet ("unmet dependency on X");
  depends_on_any: dropped when none of its targets is met. A guideline/tag target is met when a (tag's)
  guideline is active, a journey target when the journey is active, a tool target when the tool ran
  successfully this turn. Drops cascade.
- overrides: when source and target are both active, the lower-priority one is dropped; at equal priority
  the target ("overridden by X"). An active journey as the source drops its targets.
- entails: an active source (guideline, a tag's guideline, or an active journey) adds its targets
  ("entailed by X"); a journey target is entered.
- disambiguates: when the source (an ambiguous observation) is active and two or more of its targets
  are, those targets are dropped and the reply asks the customer which one they mean.
- reevaluate_after and tools_overlap act in the tools stage (tools.py, turn.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from behavior.engine.index import SnapshotIndex
from behavior.engine.plan import Clarification
from behavior.engine.prompts.sections import one_line
from behavior.engine.trace import RelationshipDecision
from behavior.engine.types import EntityRef


@dataclass
class Resolution:
    active: dict[str, str] = field(default_factory=dict)  # key -> origin ("matched" | "entailed by X")
    decisions: list[RelationshipDecision] = field(default_factory=list)
    clarification: Clarification | None = None
    enter_journeys: dict[str, str] = field(default_factory=dict)  # journey -> reason


def _label(ref: EntityRef) -> str:
    return ref.ref if ref.type == "guideline" else f"{ref.type} {ref.ref}"


class _Resolver:
    def __init__(self, index: SnapshotIndex, *, journeys: Mapping[str, str], tools_ran: set[str]) -> None:
        self.index = index
        self.journeys = journeys
        self.tools_ran = tools_ran
        self.result = Resolution()
        self.dropped: set[str] = set()

    @property
    def active(self) -> dict[str, str]:
        return self.result.active

    def drop(self, key: str, reason: str, kind: str, by: str | None) -> None:
        self.active.pop(key, None)
        self.dropped.add(key)
        self.result.decisions.append(
            RelationshipDecision(guideline=key, action="dropped", reason=reason, kind=kind, by=by)
        )

    def met(self, ref: EntityRef) -> bool:
        if ref.type == "guideline":
            return ref.ref in self.active
        if ref.type == "tag":
            return any(k in self.active for k in self.index.tagged.get(ref.ref, ()))
        if ref.type == "journey":
            return ref.ref in self.journeys or ref.ref in self.result.enter_journeys
        return ref.ref in self.tools_ran

    def dependencies(self) -> None:
        changed = True
        while changed:
            changed = False
            for key in list(self.active):
                unmet = next((t for t in self.index.depends_all.get(key, ()) if not self.met(t)), None)
                if unmet is not None:
                    self.drop(key, f"unmet dependency on {_label(unmet)}", "depends_on", unmet.ref)
                    changed = True
                    continue
                options = self.index.depends_any.get(key)
                if options and not any(self.met(t) for t in options):
                    names = ", ".join(_label(t) for t in options)
                    self.drop(key, f"none of its dependencies matched: {names}", "depends_on_any", None)
                    changed = True

    def overrides(self) -> None:
        priority = self.index.priority
        for journey_key, targets in self.index.journey_overrides.items():
            if journey_key in self.journeys:
                for target in targets:
                    if target in self.active:
                        self.drop(target, f"overridden by journey {journey_key}", "overrides", journey_key)
        pairs = []
        for source, target in self.index.override_pairs(self.active):
            if priority.get(target, 0) > priority.get(source, 0):
                pairs.append((target, source, " (higher priority)"))
            else:
                pairs.append((source, target, ""))
        pending = list(pairs)
        while pending:
            losers = {loser for _, loser, _ in pending}
            # A winner that may itself still lose acts only after that is decided, so chains resolve top-down.
            ready = [p for p in pending if p[0] not in losers] or [
                min(pending, key=lambda p: (priority.get(p[0], 0), p[0]))
            ]
            for winner, loser, note in ready:
                if winner in self.active and loser in self.active:
                    self.drop(loser, f"overridden by {winner}{note}", "overrides", winner)
            done = set(ready)
            pending = [p for p in pending if p not in done and p[0] in self.active and p[1] in self.active]

    def entailment(self) -> None:
        queue = list(self.active)
        for journey_key in self.journeys:
            for target in self.index.journey_entails.get(journey_key, ()):
                self._entail(f"journey {journey_key}", journey_key, target, queue)
        while queue:
            key = queue.pop(0)
            for target in self.index.entails.get(key, ()):
                self._entail(key, key, target, queue)

    def _entail(self, label: str, by: str, target: EntityRef, queue: list[str]) -> None:
        if target.type == "journey":
            if target.ref in self.index.snapshot.journey_by_key and target.ref not in self.journeys:
                self.result.enter_journeys.setdefault(target.ref, f"entailed by {label}")
            return
        for key in self.index.expand(target):
            if key in self.active or key in self.dropped or not self.index.in_scope(key, self.journeys):
                continue
            self.active[key] = f"entailed by {label}"
            self.result.decisions.append(
                RelationshipDecision(
                    guideline=key, action="added", reason=f"entailed by {label}", kind="entails", by=by
                )
            )
            queue.append(key)

    def disambiguation(self) -> None:
        for source, targets in self.index.disambiguates.items():
            if source not in self.active:
                continue
            matched = [t for t in dict.fromkeys(targets) if t in self.active]
            if len(matched) < 2:
                continue
            for target in matched:
                self.drop(
                    target,
                    f"ambiguous between {len(matched)} matches: the reply asks the customer (disambiguated by {source})",
                    "disambiguates",
                    source,
                )
            if self.result.clarification is None:
                guideline = self.index.matchables[source]
                options = []
                for target in matched:
                    option = self.index.matchables[target]
                    options.append((target, one_line(option.title or option.action or option.condition, 160)))
                self.result.clarification = Clarification(source=source, condition=guideline.condition, options=options)


def resolve(
    index: SnapshotIndex, *, matched: Iterable[str], journeys: Mapping[str, str], tools_ran: set[str] | None = None
) -> Resolution:
    resolver = _Resolver(index, journeys=journeys, tools_ran=tools_ran or set())
    for key in matched:
        if key in index.matchables:
            resolver.active[key] = "matched"
    resolver.dependencies()
    resolver.overrides()
    resolver.entailment()
    resolver.overrides()
    resolver.dependencies()
    resolver.disambiguation()
    for key in resolver.active:
        for journey_key in index.triggers.get(key, ()):
            if journey_key not in journeys:
                resolver.result.enter_journeys.setdefault(journey_key, f"triggered by {key}")
    return resolver.result


def clarification_insight(clarification: Clarification) -> str:
    options = "; ".join(f"{text}" for _, text in clarification.options)
    return (
        f"The customer's request is ambiguous ({one_line(clarification.condition, 200)}). "
        f"Ask one short clarifying question: which of these do they mean: {options}."
    )
