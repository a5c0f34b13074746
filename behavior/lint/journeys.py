"""Checks about journeys: no states yet, states that cannot be reached from the initial state, and dead ends
(a state that is not an end state and has no way out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behavior.lint.findings import Finding, entries


def journey_findings(document: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for journey_index, journey in enumerate(entries(document, "journeys")):
        key = str(journey.get("key"))
        path = f"journeys[{journey_index}]"
        states = [state for state in (journey.get("states") or []) if isinstance(state, Mapping)]
        if not states:
            findings.append(
                Finding(
                    severity="error",
                    code="journey-empty",
                    message=f"Journey {key} has no states yet: add its first state (it is left out of the sandbox until then).",
                    entity="journey",
                    ref=key,
                    path=f"{path}.states",
                    covers="at least 1 item",
                )
            )
            continue
        transitions = [t for t in (journey.get("transitions") or []) if isinstance(t, Mapping)]
        following: dict[str, list[str]] = {}
        for transition in transitions:
            following.setdefault(str(transition.get("source")), []).append(str(transition.get("target")))
        initial = [str(state.get("key")) for state in states if state.get("initial")]
        reached: set[str] = set()
        if len(initial) == 1:
            reached = {initial[0]}
            frontier = [initial[0]]
            while frontier:
                for target in following.get(frontier.pop(), []):
                    if target not in reached:
                        reached.add(target)
                        frontier.append(target)
        for state_index, state in enumerate(states):
            state_key = str(state.get("key"))
            state_path = f"{path}.states[{state_index}]"
            ref = f"{key}/{state_key}"
            if len(initial) == 1 and state_key not in reached:
                findings.append(
                    Finding(
                        severity="warning",
                        code="state-unreachable",
                        message=f"State {state_key} of journey {key} cannot be reached from the initial state.",
                        entity="journey_state",
                        ref=ref,
                        path=state_path,
                        related=(("journey", key),),
                    )
                )
            if (state.get("kind") or "chat") != "end" and not following.get(state_key):
                findings.append(
                    Finding(
                        severity="warning",
                        code="state-dead-end",
                        message=(
                            f"State {state_key} of journey {key} is a dead end: it has no transition out and is not "
                            "an end state, so the journey can neither go on nor finish there."
                        ),
                        entity="journey_state",
                        ref=ref,
                        path=state_path,
                        related=(("journey", key),),
                    )
                )
    return findings
