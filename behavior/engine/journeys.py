"""Journeys: entering on a trigger, validating and applying the step selected in the matching hop
(advance, stay, skip, backtrack, exit), running tool states and following their transitions.

Move rules: advance goes to a direct successor (fork states are passed through); skip goes to any state
reachable further ahead; backtrack goes to a state visited earlier; an invalid move is traced and
treated as stay. Reaching an end state completes the journey after this turn's reply. A tool state runs
its tool (arguments proposed by the step selection); after it succeeds, a single unconditional transition
is followed at once, conditional ones need another step selection (a re-evaluation hop, if allowed)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from behavior.engine.plan import JourneyStepView
from behavior.engine.schemas import JourneyStepSelection
from behavior.engine.tools import ProposedCall, proposals_to_calls
from behavior.engine.trace import JourneyMove, TurnTrace
from behavior.engine.types import Journey, Snapshot


@dataclass
class JourneyTracker:
    snapshot: Snapshot
    trace: TurnTrace
    positions: dict[str, str] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)
    completed: set[str] = field(default_factory=set)
    exited: set[str] = field(default_factory=set)
    needs_step: set[str] = field(default_factory=set)  # journeys that need a step selection next hop
    entered: set[str] = field(default_factory=set)

    @classmethod
    def start(
        cls, snapshot: Snapshot, trace: TurnTrace, positions: dict[str, str], paths: dict[str, tuple[str, ...]]
    ) -> JourneyTracker:
        tracker = cls(snapshot=snapshot, trace=trace, positions=dict(positions))
        for key, state in positions.items():
            path = [s for s in paths.get(key, ()) if snapshot.journey_by_key[key].state(s) is not None]
            tracker.paths[key] = path if path and path[-1] == state else [*path, state]
        return tracker

    @property
    def active(self) -> dict[str, str]:
        """Journeys the reply works on (completed ones stay until the reply is sent)."""
        return {k: v for k, v in self.positions.items() if k not in self.exited}

    @property
    def ongoing(self) -> dict[str, str]:
        """Journeys that remain active after this turn."""
        return {k: v for k, v in self.positions.items() if k not in self.exited and k not in self.completed}

    def _move(
        self, journey: str, move: str, source: str | None, target: str | None, *, valid: bool = True, reason: str = ""
    ) -> None:
        self.trace.moves.append(
            JourneyMove(
                journey=journey, move=move, from_state=source, to_state=target, valid=valid, reason=reason[:500]
            )
        )

    def enter(self, journey_key: str, reason: str) -> list[ProposedCall]:
        journey = self.snapshot.journey_by_key[journey_key]
        if journey_key in self.positions or journey_key in self.exited:
            return []
        initial = journey.initial_state
        self.positions[journey_key] = initial.key
        self.paths[journey_key] = [initial.key]
        self.entered.add(journey_key)
        self._move(journey_key, "enter", None, initial.key, reason=reason)
        if initial.kind in ("tool", "fork"):
            self.needs_step.add(journey_key)  # the step selection proposes the tool's arguments / picks the branch
        elif initial.kind == "end":
            self.completed.add(journey_key)
        return []

    def apply(self, journey_key: str, selection: JourneyStepSelection) -> list[ProposedCall]:
        """Apply a step selection; returns the tool calls the new state needs."""
        journey = self.snapshot.journey_by_key[journey_key]
        current = self.positions[journey_key]
        self.needs_step.discard(journey_key)
        move, target = selection.move, selection.target_state.strip()
        reason = selection.rationale
        if move == "exit":
            self.exited.add(journey_key)
            self._move(journey_key, "exit", current, None, reason=reason)
            return []
        if move == "stay" or (target == current and move != "backtrack"):
            self._move(journey_key, "stay", current, current, reason=reason)
            return self._state_calls(journey, current, selection, stayed=True)
        successors = _successors(journey, current)
        ahead = _reachable(journey, current)
        earlier = self.paths.get(journey_key, [])[:-1]
        if move == "advance" and not target and len(successors) == 1:
            target = next(iter(successors))
        valid = (
            (move == "advance" and target in successors)
            or (move == "skip" and target in ahead)
            or (move == "backtrack" and target in earlier)
        )
        if not valid or journey.state(target) is None:
            self._move(
                journey_key,
                move,
                current,
                target or None,
                valid=False,
                reason=f"invalid {move} to {target or '(none)'}: staying. {reason}",
            )
            return self._state_calls(journey, current, selection, stayed=True)
        if move == "backtrack":
            path = self.paths[journey_key]
            last = len(path) - 1 - path[::-1].index(target)
            self.paths[journey_key] = path[: last + 1]
        else:
            self.paths[journey_key] = [*self.paths.get(journey_key, []), target]
        self.positions[journey_key] = target
        self._move(journey_key, move, current, target, reason=reason)
        return self._arrive(journey, target, selection)

    def _arrive(self, journey: Journey, target: str, selection: JourneyStepSelection | None) -> list[ProposedCall]:
        state = journey.state(target)
        assert state is not None
        if state.kind == "end":
            self.completed.add(journey.key)
            self._move(journey.key, "complete", target, target, reason="reached an end state")
            return []
        if state.kind == "fork":
            self.needs_step.add(journey.key)
            return []
        return self._state_calls(journey, target, selection, stayed=False)

    def _state_calls(
        self, journey: Journey, state_key: str, selection: JourneyStepSelection | None, *, stayed: bool
    ) -> list[ProposedCall]:
        state = journey.state(state_key)
        assert state is not None
        source = f"journey:{journey.key}/{state_key}"
        allowed = [*([state.tool] if state.tool else []), *state.tools]
        calls = proposals_to_calls(
            selection.tool_calls if selection else [], allowed=allowed, source=source, priority=100
        )
        if state.kind == "tool" and state.tool and not any(c.tool == state.tool for c in calls):
            # A tool state always tries its tool: missing arguments become questions to the customer.
            calls.append(ProposedCall(tool=state.tool, arguments={}, source=source, priority=100))
        return calls

    def after_tool(self, journey_key: str, state_key: str, *, succeeded: bool) -> list[ProposedCall]:
        """A tool state's tool finished: follow a single unconditional transition, or ask for a step."""
        if self.positions.get(journey_key) != state_key or journey_key in self.exited:
            return []
        if not succeeded:
            return []
        journey = self.snapshot.journey_by_key[journey_key]
        outgoing = journey.outgoing(state_key)
        if len(outgoing) == 1 and not outgoing[0].condition:
            target = outgoing[0].target
            self.positions[journey_key] = target
            self.paths[journey_key] = [*self.paths.get(journey_key, []), target]
            self._move(
                journey_key, "auto", state_key, target, reason="the tool state's tool succeeded; single transition"
            )
            return self._arrive(journey, target, None)
        if outgoing:
            self.needs_step.add(journey_key)
        return []

    def steps(self) -> list[JourneyStepView]:
        views = []
        for journey_key, state_key in self.active.items():
            journey = self.snapshot.journey_by_key[journey_key]
            state = journey.state(state_key)
            assert state is not None
            views.append(
                JourneyStepView(
                    journey=journey_key,
                    title=journey.title,
                    state=state_key,
                    kind=state.kind,
                    action=state.action,
                    completed=journey_key in self.completed,
                )
            )
        return views


def _successors(journey: Journey, current: str) -> set[str]:
    """Direct successors, passing through fork states."""
    found: set[str] = set()
    seen = {current}
    queue = deque(t.target for t in journey.outgoing(current))
    while queue:
        key = queue.popleft()
        if key in seen:
            continue
        seen.add(key)
        state = journey.state(key)
        if state is not None and state.kind == "fork":
            queue.extend(t.target for t in journey.outgoing(key))
        else:
            found.add(key)
    return found


def _reachable(journey: Journey, current: str) -> set[str]:
    seen: set[str] = set()
    queue = deque(t.target for t in journey.outgoing(current))
    while queue:
        key = queue.popleft()
        if key in seen or key == current:
            continue
        seen.add(key)
        queue.extend(t.target for t in journey.outgoing(key))
    return {k for k in seen if (s := journey.state(k)) is not None and s.kind != "fork"}
