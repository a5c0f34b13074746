"""Checks about guidelines: duplicates and near-duplicates, conditions shadowed by a higher-priority override,
dependencies on disabled or missing guidelines, and guidelines (or other entities) scoped to a journey that
does not exist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from behavior.lint.findings import Finding, entries
from behavior.lint.similarity import embed_sync, similar_pairs

NEAR_DUPLICATE_SIMILARITY = 0.9
SHADOW_SIMILARITY = 0.9
DUPLICATE_TOP_K = 5
_SPACES = re.compile(r"\s+")


def normalized(text: Any) -> str:
    return _SPACES.sub(" ", str(text or "")).strip().casefold().rstrip(".!")


def guideline_text(guideline: Mapping[str, Any]) -> str:
    """What a guideline says, for embedding and for prompts: its condition, then its action."""
    condition = str(guideline.get("condition") or "").strip()
    action = str(guideline.get("action") or "").strip()
    return f"{condition} → {action}" if action else condition


def _quoted(text: Any, limit: int = 120) -> str:
    text = " ".join(str(text or "").split())
    return f"“{text[:limit]}…”" if len(text) > limit else f"“{text}”"


def _enabled(guideline: Mapping[str, Any]) -> bool:
    return guideline.get("enabled", True) is not False


def duplicate_findings(document: Mapping[str, Any], *, embedder: Any) -> list[Finding]:
    guidelines = [(index, g) for index, g in enumerate(entries(document, "guidelines")) if _enabled(g)]
    findings: list[Finding] = []
    seen: dict[tuple[str, str], str] = {}
    exact: set[tuple[str, str]] = set()
    for index, guideline in guidelines:
        identity = (normalized(guideline.get("condition")), normalized(guideline.get("action")))
        key = str(guideline.get("key"))
        if identity in seen:
            exact.add((seen[identity], key))
            findings.append(
                Finding(
                    severity="warning",
                    code="duplicate-guideline",
                    message=(
                        f"Guideline {key} repeats guideline {seen[identity]}: same condition "
                        f"({_quoted(guideline.get('condition'))}) and action."
                    ),
                    entity="guideline",
                    ref=key,
                    path=f"guidelines[{index}]",
                    related=(("guideline", seen[identity]),),
                )
            )
        else:
            seen[identity] = key
    vectors = embed_sync(embedder, [guideline_text(g) for _, g in guidelines])
    if vectors is None:
        return findings
    for i, j, score in similar_pairs(vectors, threshold=NEAR_DUPLICATE_SIMILARITY, top_k=DUPLICATE_TOP_K):
        (_, first), (index, second) = guidelines[i], guidelines[j]
        first_key, second_key = str(first.get("key")), str(second.get("key"))
        if (first_key, second_key) in exact:
            continue
        findings.append(
            Finding(
                severity="warning",
                code="near-duplicate-guideline",
                message=(
                    f"Guideline {second_key} is nearly the same as guideline {first_key} "
                    f"({score:.0%} similar): merge them or make the difference explicit."
                ),
                entity="guideline",
                ref=second_key,
                path=f"guidelines[{index}]",
                related=(("guideline", first_key),),
            )
        )
    return findings


def _guideline_relationships(
    document: Mapping[str, Any], kinds: tuple[str, ...]
) -> list[tuple[int, Mapping[str, Any]]]:
    found = []
    for index, relationship in enumerate(entries(document, "relationships")):
        if relationship.get("kind") in kinds:
            found.append((index, relationship))
    return found


def _endpoint(relationship: Mapping[str, Any], side: str) -> tuple[str, str]:
    endpoint = relationship.get(side)
    if not isinstance(endpoint, Mapping):
        return "", ""
    return str(endpoint.get("type")), str(endpoint.get("ref"))


def shadow_findings(document: Mapping[str, Any], *, embedder: Any) -> list[Finding]:
    """An override between two enabled guidelines whose conditions say the same thing: the loser can never
    apply, since whenever its condition holds the winner's does too. Also: an override the priorities reverse."""
    guidelines = {str(g.get("key")): g for g in entries(document, "guidelines")}
    pairs: list[tuple[int, str, str]] = []  # (relationship index, winner, loser)
    findings: list[Finding] = []
    for index, relationship in _guideline_relationships(document, ("overrides",)):
        (source_type, source), (target_type, target) = (
            _endpoint(relationship, "source"),
            _endpoint(relationship, "target"),
        )
        if source_type != "guideline" or target_type != "guideline":
            continue
        if source not in guidelines or target not in guidelines:
            continue
        source_priority = _priority(guidelines[source])
        target_priority = _priority(guidelines[target])
        if target_priority > source_priority:
            findings.append(
                Finding(
                    severity="info",
                    code="override-reversed-by-priority",
                    message=(
                        f"Guideline {source} overrides {target}, but {target} has the higher priority "
                        f"({target_priority} > {source_priority}), so {target} wins when both apply."
                    ),
                    entity="relationship",
                    ref=f"guideline:{source} overrides guideline:{target}",
                    path=f"relationships[{index}]",
                    related=(("guideline", source), ("guideline", target)),
                )
            )
            winner, loser = target, source
        else:
            winner, loser = source, target
        if _enabled(guidelines[winner]) and _enabled(guidelines[loser]):
            pairs.append((index, winner, loser))
    if not pairs:
        return findings
    keys = list(dict.fromkeys(key for _, winner, loser in pairs for key in (winner, loser)))
    vectors = embed_sync(embedder, [str(guidelines[key].get("condition") or "") for key in keys])
    position = {key: row for row, key in enumerate(keys)}
    for index, winner, loser in pairs:
        same = normalized(guidelines[winner].get("condition")) == normalized(guidelines[loser].get("condition"))
        score = 1.0
        if not same and vectors is not None:
            score = float(vectors[position[winner]] @ vectors[position[loser]])
            same = score >= SHADOW_SIMILARITY
        if not same:
            continue
        findings.append(
            Finding(
                severity="warning",
                code="shadowed-condition",
                message=(
                    f"Guideline {loser} can never apply: its condition ({_quoted(guidelines[loser].get('condition'))}) is "
                    f"{'the same as' if score >= 0.999 else f'nearly the same as ({score:.0%})'} that of {winner}, "
                    f"which overrides it (priority {_priority(guidelines[winner])})."
                ),
                entity="guideline",
                ref=loser,
                path=f"relationships[{index}]",
                related=(("guideline", winner),),
            )
        )
    return findings


def _priority(guideline: Mapping[str, Any]) -> int:
    value = guideline.get("priority", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def dependency_findings(document: Mapping[str, Any]) -> list[Finding]:
    """depends_on / depends_on_any on guidelines that are disabled or missing, or on a tag no enabled guideline
    carries: the dependent guideline can then never apply."""
    guidelines = {str(g.get("key")): g for g in entries(document, "guidelines")}
    tagged: dict[str, list[str]] = {}
    for key, guideline in guidelines.items():
        for tag in guideline.get("tags") or []:
            if _enabled(guideline):
                tagged.setdefault(str(tag), []).append(key)
    journeys = {str(j.get("key")) for j in entries(document, "journeys")}
    for journey in entries(document, "journeys"):
        for tag in journey.get("tags") or []:
            tagged.setdefault(str(tag), []).append(f"journey {journey.get('key')}")
    findings: list[Finding] = []
    any_groups: dict[tuple[str, str], list[tuple[int, str, bool]]] = {}
    for index, relationship in _guideline_relationships(document, ("depends_on", "depends_on_any")):
        kind = str(relationship.get("kind"))
        source, target = _endpoint(relationship, "source"), _endpoint(relationship, "target")
        label = f"{source[0]}:{source[1]} {kind} {target[0]}:{target[1]}"
        path = f"relationships[{index}]"
        dependent = f"{'Guideline' if source[0] == 'guideline' else source[0].capitalize()} {source[1]}"
        problem: tuple[str, str, str] | None = None  # (severity, code, message)
        if target[0] == "guideline" and target[1] not in guidelines:
            problem = (
                "error",
                "dependency-missing",
                f"{dependent} depends on guideline {target[1]}, which does not exist.",
            )
            findings.append(
                Finding(
                    severity="error",
                    code=problem[1],
                    message=problem[2],
                    entity="relationship",
                    ref=label,
                    path=f"{path}.target.ref",
                    related=(source,),
                    covers=f'unknown guideline "{target[1]}"',
                )
            )
            continue
        if target[0] == "journey" and target[1] not in journeys:
            continue  # validation reports the unknown journey
        unmet = False
        if target[0] == "guideline" and not _enabled(guidelines[target[1]]):
            unmet = True
            reason = f"guideline {target[1]}, which is disabled"
        elif target[0] == "tag" and not tagged.get(target[1]):
            unmet = True
            reason = f'tag "{target[1]}", which no enabled guideline or journey carries'
        else:
            reason = ""
        if kind == "depends_on_any":
            any_groups.setdefault(source, []).append((index, reason, unmet))
            continue
        if unmet:
            findings.append(
                Finding(
                    severity="warning",
                    code="dependency-disabled",
                    message=f"{dependent} depends on {reason}: it can never apply.",
                    entity=source[0] if source[0] in ("guideline", "journey", "tag") else "relationship",
                    ref=source[1],
                    path=path,
                    related=(("relationship", label), target),
                )
            )
    for source, options in any_groups.items():
        if options and all(unmet for _, _, unmet in options):
            reasons = "; ".join(reason for _, reason, _ in options)
            findings.append(
                Finding(
                    severity="warning",
                    code="dependency-disabled",
                    message=f"{source[0].capitalize()} {source[1]} depends on any of: {reasons}: it can never apply.",
                    entity=source[0],
                    ref=source[1],
                    path=f"relationships[{options[0][0]}]",
                )
            )
    return findings


_SCOPED_LISTS = (
    ("guidelines", "guideline", "key"),
    ("canned_responses", "canned_response", "key"),
    ("glossary", "glossary_term", "name"),
    ("context_variables", "context_variable", "name"),
    ("journeys", "journey", "key"),
)


def journey_scope_findings(document: Mapping[str, Any]) -> list[Finding]:
    """An entity tagged `journey:<key>` applies only while that journey is active: a missing journey means never."""
    journeys = {str(j.get("key")) for j in entries(document, "journeys")}
    findings: list[Finding] = []
    for list_name, entity, field in _SCOPED_LISTS:
        for index, entry in enumerate(entries(document, list_name)):
            for tag_index, tag in enumerate(entry.get("tags") or []):
                tag = str(tag)
                if not tag.startswith("journey:") or tag.removeprefix("journey:") in journeys:
                    continue
                journey = tag.removeprefix("journey:")
                findings.append(
                    Finding(
                        severity="error",
                        code="journey-scope-missing",
                        message=(
                            f"{entity.replace('_', ' ').capitalize()} {entry.get(field)} is scoped to journey "
                            f"{journey}, which does not exist: it would never apply."
                        ),
                        entity=entity,
                        ref=str(entry.get(field)),
                        path=f"{list_name}[{index}].tags[{tag_index}]",
                        related=(("tag", tag),),
                        covers=f'"{tag}"',
                    )
                )
    return findings
