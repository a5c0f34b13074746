"""Every validation error of the document as a lint error (so publishing is blocked exactly when the document
would not validate), and the runnable part of a half-finished draft: the document with its invalid entities
left out, for the sandbox.

Structural errors (a journey with no states) stop the document's own validator before its cross-reference
checks; here the offending entities are set aside and the rest is checked too, so an author sees everything.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from behavior.documents.schema import BehaviorDocument
from behavior.documents.validation import _Checker, document_parse
from behavior.lint.findings import ENTITY_LISTS, Finding, entries, entry_ref, path_entity
from config.errors import ValidationFailed

MAX_ROUNDS = 8
_TOP = re.compile(r"^(?P<list>[a-z_]+)\[(?P<index>\d+)\]")
_CYCLE = re.compile(r" cycle: ")


def _top(path: str) -> tuple[str, int] | None:
    match = _TOP.match(path)
    if match is None or match.group("list") not in ENTITY_LISTS:
        return None
    return match.group("list"), int(match.group("index"))


def _structure_errors(document: Mapping[str, Any]) -> tuple[BehaviorDocument | None, list[dict[str, str]]]:
    try:
        return document_parse(dict(document)), []
    except ValidationFailed as error:
        return None, list(error.details or [{"path": "", "message": error.message}])


class _LintChecker(_Checker):
    """The document's semantic checks, with the entities set aside for structural errors still known by name,
    so references to them are not reported a second time."""

    def __init__(self, document: BehaviorDocument, removed: Mapping[str, list[Mapping[str, Any]]]) -> None:
        super().__init__(document)
        for entry in removed.get("guidelines", []):
            self.guidelines.setdefault(str(entry.get("key")), None)  # type: ignore[arg-type]
        for entry in removed.get("journeys", []):
            states = [
                SimpleNamespace(key=state.get("key"))
                for state in (entry.get("states") or [])
                if isinstance(state, Mapping)
            ]
            self.journeys.setdefault(str(entry.get("key")), SimpleNamespace(states=states))  # type: ignore[arg-type]
        for name, known, field in (
            ("tools", self.tools, "name"),
            ("canned_responses", self.canned, "key"),
            ("context_variables", self.variables, "name"),
            ("tool_services", self.services, "name"),
            ("tags", self.tags, "name"),
        ):
            known.update(str(entry.get(field)) for entry in removed.get(name, []))


def _copy(document: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(document))


def validation_findings(document: Mapping[str, Any]) -> list[Finding]:
    """The validation errors of `document` as error findings, paths as in the original document."""
    current = _copy(document)
    origin = {name: list(range(len(current[name]))) for name in ENTITY_LISTS if isinstance(current.get(name), list)}
    removed: dict[str, list[Mapping[str, Any]]] = {}
    details: list[dict[str, str]] = []
    parsed: BehaviorDocument | None = None

    def original_path(path: str) -> str:
        top = _top(path)
        if top is None or top[0] not in origin:
            return path
        name, index = top
        return f"{name}[{origin[name][index]}]" + path[_TOP.match(path).end() :]  # type: ignore[union-attr]

    for _ in range(MAX_ROUNDS):
        parsed, structure = _structure_errors(current)
        if parsed is not None:
            break
        details.extend({"path": original_path(d["path"]), "message": d["message"]} for d in structure)
        tops = [_top(d["path"]) for d in structure]
        if any(top is None or top[0] not in origin for top in tops):
            break  # a problem outside any entity (the agent section): nothing can be set aside
        doomed: dict[str, set[int]] = {}
        for top in tops:
            assert top is not None
            doomed.setdefault(top[0], set()).add(top[1])
        for name, indexes in doomed.items():
            kept = [index for index in range(len(current[name])) if index not in indexes]
            removed.setdefault(name, []).extend(
                current[name][index] for index in sorted(indexes) if isinstance(current[name][index], Mapping)
            )
            origin[name] = [origin[name][index] for index in kept]
            current[name] = [current[name][index] for index in kept]
    if parsed is not None:
        for detail in _LintChecker(parsed, removed).run():
            details.append({"path": original_path(detail["path"]), "message": detail["message"]})
    return [_finding(document, detail) for detail in details]


def _finding(document: Mapping[str, Any], detail: Mapping[str, str]) -> Finding:
    path, message = detail["path"], detail["message"]
    entity, ref, _ = path_entity(document, path)
    related: tuple[tuple[str, str], ...] = ()
    if entity == "journey_state":
        related = (("journey", ref.partition("/")[0]),)
    code = "relationship-cycle" if entity == "relationship" and _CYCLE.search(message) else "invalid"
    what = _describe(entity, ref)
    return Finding(
        severity="error",
        code=code,
        message=f"{what}: {message}" if what else message,
        entity=entity,
        ref=ref,
        path=path,
        related=related,
    )


_NAMES = {
    "guideline": "Guideline",
    "journey": "Journey",
    "journey_state": "Journey state",
    "canned_response": "Canned response",
    "glossary_term": "Glossary term",
    "context_variable": "Context variable",
    "tool": "Tool",
    "tool_service": "Tool service",
    "relationship": "Relationship",
    "tag": "Tag",
    "agent": "Agent settings",
}


def _describe(entity: str, ref: str) -> str:
    name = _NAMES.get(entity, entity)
    return f"{name} {ref}" if ref and entity != "agent" else name


# ---------------------------------------------------------------- the runnable draft


def _errors(document: Mapping[str, Any]) -> list[dict[str, str]]:
    parsed, structure = _structure_errors(document)
    if parsed is None:
        return structure
    return _Checker(parsed).run()


def _strip_references(document: dict[str, Any], gone: set[tuple[str, str]]) -> None:
    """Drop plain links to entities that were left out (a journey's trigger, a state's canned response...);
    what cannot be unlinked (a tool state's tool, an entity's tags) fails validation and is left out next."""

    def names(entity: str) -> set[str]:
        return {ref for kind, ref in gone if kind == entity}

    guidelines, journeys, canned, tools = names("guideline"), names("journey"), names("canned_response"), names("tool")

    def kept(values: Any, drop: set[str]) -> Any:
        return [value for value in values if value not in drop] if isinstance(values, list) else values

    for journey in entries(document, "journeys"):
        assert isinstance(journey, dict)
        journey["triggers"] = kept(journey.get("triggers", []), guidelines)
        for state in journey.get("states") or []:
            if isinstance(state, dict):
                state["canned_responses"] = kept(state.get("canned_responses", []), canned)
                state["tools"] = kept(state.get("tools", []), tools)
    for guideline in entries(document, "guidelines"):
        assert isinstance(guideline, dict)
        guideline["tools"] = kept(guideline.get("tools", []), tools)
    for response in entries(document, "canned_responses"):
        assert isinstance(response, dict)
        response["guidelines"] = kept(response.get("guidelines", []), guidelines)
        states = response.get("journey_states")
        if isinstance(states, list):
            response["journey_states"] = [ref for ref in states if str(ref).partition("/")[0] not in journeys]
    if isinstance(document.get("relationships"), list):
        document["relationships"] = [
            relationship
            for relationship in document["relationships"]
            if not isinstance(relationship, Mapping)
            or not any(
                isinstance(endpoint, Mapping) and (endpoint.get("type"), endpoint.get("ref")) in gone
                for endpoint in (relationship.get("source"), relationship.get("target"))
            )
        ]
    if isinstance(document.get("tags"), list):
        document["tags"] = [
            tag
            for tag in document["tags"]
            if not (
                isinstance(tag, Mapping)
                and str(tag.get("name", "")).startswith("journey:")
                and str(tag.get("name")).removeprefix("journey:") in journeys
            )
        ]


def document_runnable(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The document with every invalid entity left out (and what depended on it), and the (entity, ref) pairs
    left out, in order. A valid document comes back unchanged with nothing left out. Problems outside any
    entity (the agent section) cannot be left out: the document then keeps them."""
    current = _copy(document)
    left_out: list[tuple[str, str]] = []
    for _ in range(MAX_ROUNDS):
        details = _errors(current)
        if not details:
            break
        doomed: dict[str, set[int]] = {}
        for detail in details:
            top = _top(detail["path"])
            if top is not None and isinstance(current.get(top[0]), list) and top[1] < len(current[top[0]]):
                doomed.setdefault(top[0], set()).add(top[1])
        if not doomed:
            break
        gone: set[tuple[str, str]] = set()
        for name, indexes in doomed.items():
            entity, _ = ENTITY_LISTS[name]
            for index in sorted(indexes):
                pair = (entity, entry_ref(name, current[name][index], index))
                gone.add(pair)
                left_out.append(pair)
            current[name] = [entry for index, entry in enumerate(current[name]) if index not in indexes]
        _strip_references(current, gone)
    return current, left_out
