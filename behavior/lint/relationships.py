"""Relationship cycles the engine cannot resolve.

The engine (behavior/engine/resolution.py) resolves an `overrides` pair by priority, and at equal priority
the source wins: around a cycle of overrides someone always overrides the winner, so which guideline survives
depends on evaluation order. A `depends_on` / `depends_on_any` cycle makes every member wait on another, so
none can apply unless they all match at once. `entails` cycles are harmless (an entailed guideline is added
once), so they are not reported. A tag endpoint stands for every guideline and journey carrying the tag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behavior.lint.findings import Finding, entries, relationship_ref
from behavior.validation.rules import find_cycle

MAX_CYCLES_PER_GROUP = 20
GROUPS = (("overrides",), ("depends_on", "depends_on_any"))
_CONSEQUENCE = {
    "overrides": "the engine cannot tell which of them wins",
    "depends_on": "none of them can apply unless all of them match at once",
}


def cycle_findings(document: Mapping[str, Any]) -> list[Finding]:
    members: dict[str, list[str]] = {}
    for guideline in entries(document, "guidelines"):
        for tag in guideline.get("tags") or []:
            members.setdefault(str(tag), []).append(f"guideline:{guideline.get('key')}")
    for journey in entries(document, "journeys"):
        for tag in journey.get("tags") or []:
            members.setdefault(str(tag), []).append(f"journey:{journey.get('key')}")
    relationships = entries(document, "relationships")
    findings: list[Finding] = []
    for group in GROUPS:
        edges: dict[tuple[str, str], int] = {}
        for index, relationship in enumerate(relationships):
            if relationship.get("kind") not in group:
                continue
            source, target = relationship.get("source"), relationship.get("target")
            if not isinstance(source, Mapping) or not isinstance(target, Mapping):
                continue
            source_label = f"{source.get('type')}:{source.get('ref')}"
            target_label = f"{target.get('type')}:{target.get('ref')}"
            if source_label == target_label:
                continue
            edges.setdefault((source_label, target_label), index)
            sources = members.get(str(source.get("ref")), []) if source.get("type") == "tag" else [source_label]
            targets = members.get(str(target.get("ref")), []) if target.get("type") == "tag" else [target_label]
            if source.get("type") == "tag" or target.get("type") == "tag":
                for member_source in sources:
                    for member_target in targets:
                        if member_source != member_target:
                            edges.setdefault((member_source, member_target), index)
        for _ in range(MAX_CYCLES_PER_GROUP):
            cycle = find_cycle(list(edges))
            if cycle is None:
                break
            steps = [(cycle[position], cycle[position + 1]) for position in range(len(cycle) - 1)]
            last = max(edges[step] for step in steps)
            relationship = relationships[last]
            involved = tuple(
                (node.partition(":")[0], node.partition(":")[2]) for node in dict.fromkeys(cycle) if ":" in node
            )
            findings.append(
                Finding(
                    severity="error",
                    code="relationship-cycle",
                    message=(
                        f"{' / '.join(group)} cycle: {' → '.join(cycle)}; {_CONSEQUENCE[group[0]]}. "
                        "Remove one of these relationships."
                    ),
                    entity="relationship",
                    ref=relationship_ref(relationship),
                    path=f"relationships[{last}]",
                    related=involved,
                    covers=" cycle: ",
                )
            )
            # Break this cycle at its last-written edge and look for another.
            for step in steps:
                if edges[step] == last:
                    edges.pop(step)
    return findings
