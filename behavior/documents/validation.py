"""Validate a behavior document: structure through the pydantic schema, then every cross-reference.

Errors are collected (not raised one by one) so an author sees them all at once, each with the path of
the offending value, e.g. `journeys[1].transitions[0].target: unknown state "payment"`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from pydantic import ValidationError

from behavior.documents.schema import (
    FORMAT,
    SCHEMA_VERSION,
    BehaviorDocument,
    CannedResponseEntry,
    ContextVariableEntry,
    JourneyEntry,
    RelationshipEntry,
    ToolEntry,
)
from behavior.validation.rules import (
    CYCLE_GROUPS,
    canned_fields_errors,
    canned_template_errors,
    find_cycle,
    relationship_kind_allowed,
)
from config.errors import ValidationFailed

MAX_REPORTED_ERRORS = 200
# The models' bound on one context-variable value (behavior.models.CONTEXT_VALUE_MAX_BYTES).
CONTEXT_VALUE_MAX_BYTES = 16 * 1024

_PATTERN_MESSAGES = {
    r"^[a-z0-9][a-z0-9-]*$": "use lowercase letters, digits and dashes, starting with a letter or digit (e.g. refund-policy)",
    r"^[a-z_][a-z0-9_]*$": "use lowercase letters, digits and underscores, not starting with a digit (e.g. lookup_booking)",
    r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$": "use letters, digits and . _ : / -, starting with a letter or digit, no spaces (e.g. vip)",
    r"^\S(.*\S)?$": "must not be blank or start or end with spaces",
    r"\S": "must not be blank",
    r"^https?://\S+$": "must be an http:// or https:// URL",
    r"^\S+$": "must not be blank or contain spaces",
    r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$": 'use "journey-key/state-key"',
    r"^[a-z0-9][a-z0-9_-]*$": "use lowercase letters, digits, dashes and underscores",
}


def path_join(parts: Iterable[str | int]) -> str:
    """('journeys', 1, 'transitions', 0, 'target') -> 'journeys[1].transitions[0].target'."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _pydantic_message(error: Any) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        return _PATTERN_MESSAGES.get(pattern, f"does not match {pattern}")
    message = str(error.get("msg", "invalid value"))
    return message[:1].lower() + message[1:]


# Free-form JSON fields: inside them pydantic's locations mix type tags ("dict", "float") with keys, so
# errors are reported at the field itself.
_FREE_FORM_FIELDS = ("metadata", "value")
MAX_NESTING = 32


def _structure_errors(error: ValidationError) -> list[dict[str, str]]:
    details: list[dict[str, str]] = []
    for item in error.errors():
        parts: list[str | int] = []
        for part in item["loc"]:
            parts.append(part)
            if part in _FREE_FORM_FIELDS:
                break
        detail = {"path": path_join(parts), "message": _pydantic_message(item)}
        if detail not in details:
            details.append(detail)
    return details


def _nesting_too_deep(data: object) -> bool:
    """True when lists/objects nest deeper than MAX_NESTING (iterative: never hits the recursion limit)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return False


def _raise(details: list[dict[str, str]]) -> NoReturn:
    count = len(details)
    noun = "error" if count == 1 else "errors"
    first = details[0]
    where = f"{first['path']}: " if first["path"] else ""
    raise ValidationFailed(
        f"The behavior document is not valid ({count} {noun}; first: {where}{first['message']}).",
        details=details[:MAX_REPORTED_ERRORS],
    )


def document_parse(data: object) -> BehaviorDocument:
    """Structural validation only (types, required fields, unknown keys, size bounds)."""
    if not isinstance(data, dict):
        _raise([{"path": "", "message": "a behavior document must be an object (a mapping of keys to values)"}])
    header_errors = []
    if data.get("format") != FORMAT:
        header_errors.append({"path": "format", "message": f'must be "{FORMAT}"'})
    version = data.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        header_errors.append(
            {
                "path": "schema_version",
                "message": f"unsupported schema version {version!r} (this Decorum reads {SCHEMA_VERSION})",
            }
        )
    if _nesting_too_deep(data):
        header_errors.append({"path": "", "message": f"values are nested more than {MAX_NESTING} levels deep"})
    if header_errors:
        _raise(header_errors)
    try:
        return BehaviorDocument.model_validate(data)
    except ValidationError as error:
        details = _structure_errors(error)
    _raise(details)


def document_validate(data: object) -> BehaviorDocument:
    """Validate a document (a dict, e.g. parsed JSON or YAML) completely.

    Returns the parsed document; raises config.errors.ValidationFailed whose details are a list of
    {"path", "message"} naming every problem found.
    """
    document = document_parse(data)
    errors = _Checker(document).run()
    if errors:
        _raise(errors)
    return document


def document_warnings(document: BehaviorDocument) -> list[dict[str, str]]:
    """Problems that do not block an import or a publish but that an author should see."""
    warnings: list[dict[str, str]] = []
    used = document_tags_used(document)
    for index, tag in enumerate(document.tags):
        if tag.name not in used:
            warnings.append(
                {"path": f"tags[{index}]", "message": f'tag "{tag.name}" is not used by any entity; import ignores it'}
            )
    for journey_index, journey in enumerate(document.journeys):
        for state_index in _unreachable_states(journey):
            state = journey.states[state_index]
            warnings.append(
                {
                    "path": f"journeys[{journey_index}].states[{state_index}]",
                    "message": f'state "{state.key}" cannot be reached from the initial state',
                }
            )
    return warnings


def document_tags_used(document: BehaviorDocument) -> set[str]:
    """Names of the tags some entity of the document refers to (declared tags nobody uses are ignored)."""
    used = set(document.agent.tags)
    for entries in (
        document.guidelines,
        document.journeys,
        document.glossary,
        document.context_variables,
        document.canned_responses,
    ):
        for entry in entries:
            used.update(entry.tags)
    for variable in document.context_variables:
        used.update(value.key for value in variable.values if value.key is not None)
    for relationship in document.relationships:
        used.update(endpoint.ref for endpoint in (relationship.source, relationship.target) if endpoint.type == "tag")
    return used


def _unreachable_states(journey: JourneyEntry) -> list[int]:
    initial = [state.key for state in journey.states if state.initial]
    if len(initial) != 1:
        return []
    following: dict[str, list[str]] = {}
    for transition in journey.transitions:
        following.setdefault(transition.source, []).append(transition.target)
    reached = {initial[0]}
    frontier = [initial[0]]
    while frontier:
        for target in following.get(frontier.pop(), []):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    return [index for index, state in enumerate(journey.states) if state.key not in reached]


class _Checker:
    """Semantic checks over a structurally valid document; `run` returns the errors in document order."""

    def __init__(self, document: BehaviorDocument) -> None:
        self.document = document
        self.errors: list[dict[str, str]] = []
        self.tags = {tag.name for tag in document.tags}
        self.guidelines = {guideline.key: guideline for guideline in document.guidelines}
        self.journeys = {journey.key: journey for journey in document.journeys}
        self.tools = {tool.name for tool in document.tools}
        self.canned = {response.key for response in document.canned_responses}
        self.variables = {variable.name for variable in document.context_variables}
        self.services = {service.name for service in document.tool_services}

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def run(self) -> list[dict[str, str]]:
        document = self.document
        self.unique("tags", [tag.name for tag in document.tags], "name", "tag")
        for index, tag in enumerate(document.tags):
            if tag.name.startswith("journey:") and tag.name.removeprefix("journey:") not in self.journeys:
                self.error(f"tags[{index}].name", f'unknown journey "{tag.name.removeprefix("journey:")}"')
        self.references("agent.tags", document.agent.tags, self.tags, "tag")
        self.guidelines_check()
        self.relationships_check()
        self.journeys_check()
        self.unique("glossary", [term.name for term in document.glossary], "name", "glossary term", fold=True)
        for index, term in enumerate(document.glossary):
            self.references(f"glossary[{index}].tags", term.tags, self.tags, "tag")
            self.duplicates(f"glossary[{index}].synonyms", [synonym.casefold() for synonym in term.synonyms], "synonym")
        self.unique(
            "context_variables", [variable.name for variable in document.context_variables], "name", "context variable"
        )
        for index, variable in enumerate(document.context_variables):
            self.variable_check(f"context_variables[{index}]", variable)
        self.unique(
            "canned_responses", [response.key for response in document.canned_responses], "key", "canned response"
        )
        for index, response in enumerate(document.canned_responses):
            self.canned_check(f"canned_responses[{index}]", response)
        self.unique("tool_services", [service.name for service in document.tool_services], "name", "tool service")
        self.unique("tools", [tool.name for tool in document.tools], "name", "tool")
        for index, tool in enumerate(document.tools):
            self.tool_check(f"tools[{index}]", tool)
        return self.errors

    # -------------------------------------------------------------- helpers

    def unique(self, path: str, names: Sequence[str], field: str, what: str, *, fold: bool = False) -> None:
        seen: set[str] = set()
        for index, name in enumerate(names):
            folded = name.casefold() if fold else name
            if folded in seen:
                self.error(f"{path}[{index}].{field}", f'duplicate {what} {field} "{name}"')
            seen.add(folded)

    def duplicates(self, path: str, values: Sequence[str], what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.error(f"{path}[{index}]", f'duplicate {what} "{value}"')
            seen.add(value)

    def references(self, path: str, values: Sequence[str], known: set[str] | dict[str, Any], what: str) -> None:
        for index, value in enumerate(values):
            if value not in known:
                self.error(f"{path}[{index}]", f'unknown {what} "{value}"')
        self.duplicates(path, values, what)

    # -------------------------------------------------------------- entities

    def guidelines_check(self) -> None:
        self.unique("guidelines", [guideline.key for guideline in self.document.guidelines], "key", "guideline")
        for index, guideline in enumerate(self.document.guidelines):
            self.references(f"guidelines[{index}].tags", guideline.tags, self.tags, "tag")
            self.references(f"guidelines[{index}].tools", guideline.tools, self.tools, "tool")

    def endpoint_known(self, endpoint_type: str, ref: str) -> bool:
        known: dict[str, set[str] | dict[str, Any]] = {
            "guideline": self.guidelines,
            "tag": self.tags,
            "journey": self.journeys,
            "tool": self.tools,
        }
        return ref in known[endpoint_type]

    def relationships_check(self) -> None:
        seen: dict[tuple[str, str, str, str, str], int] = {}
        valid: list[tuple[int, RelationshipEntry]] = []
        for index, relationship in enumerate(self.document.relationships):
            path = f"relationships[{index}]"
            source, target = relationship.source, relationship.target
            problems = False
            for side, endpoint in (("source", source), ("target", target)):
                if not self.endpoint_known(endpoint.type, endpoint.ref):
                    self.error(f"{path}.{side}.ref", f'unknown {endpoint.type} "{endpoint.ref}"')
                    problems = True
            if problems:
                continue
            if (source.type, source.ref) == (target.type, target.ref):
                self.error(path, f'a relationship cannot link {source.type} "{source.ref}" to itself')
                continue
            source_guideline = self.guidelines.get(source.ref) if source.type == "guideline" else None
            illegal = relationship_kind_allowed(
                relationship.kind,
                source.type,
                target.type,
                source_is_observation=source_guideline is not None and source_guideline.action is None,
            )
            if illegal:
                self.error(path, illegal[:1].lower() + illegal[1:].rstrip("."))
                continue
            identity = (relationship.kind, source.type, source.ref, target.type, target.ref)
            if identity in seen:
                self.error(path, f"duplicate of relationships[{seen[identity]}]")
                continue
            seen[identity] = index
            valid.append((index, relationship))
        self.cycles_check(valid)

    def cycles_check(self, relationships: list[tuple[int, RelationshipEntry]]) -> None:
        """The same rule as the models' check: overrides and depends_on(_any) graphs stay acyclic, with a
        tag endpoint standing for each guideline and journey carrying that tag."""
        members: dict[str, list[str]] = {}
        for guideline in self.document.guidelines:
            for tag in guideline.tags:
                members.setdefault(tag, []).append(f"guideline:{guideline.key}")
        for journey in self.document.journeys:
            for tag in journey.tags:
                members.setdefault(tag, []).append(f"journey:{journey.key}")
        for group in dict.fromkeys(CYCLE_GROUPS[kind] for kind in sorted(CYCLE_GROUPS)):
            edges: dict[tuple[str, str], int] = {}
            for index, relationship in relationships:
                if relationship.kind not in group:
                    continue
                source = f"{relationship.source.type}:{relationship.source.ref}"
                target = f"{relationship.target.type}:{relationship.target.ref}"
                edges.setdefault((source, target), index)
                sources = members.get(relationship.source.ref, []) if relationship.source.type == "tag" else [source]
                targets = members.get(relationship.target.ref, []) if relationship.target.type == "tag" else [target]
                if relationship.source.type == "tag" or relationship.target.type == "tag":
                    for member_source in sources:
                        for member_target in targets:
                            if member_source != member_target:
                                edges.setdefault((member_source, member_target), index)
            cycle = find_cycle(list(edges))
            if cycle is None:
                continue
            # Point at the cycle's last-written relationship: the one an author most likely just added.
            indexes = [edges[(cycle[position], cycle[position + 1])] for position in range(len(cycle) - 1)]
            self.error(f"relationships[{max(indexes)}]", f"{' / '.join(group)} cycle: {' → '.join(cycle)}")

    def journeys_check(self) -> None:
        self.unique("journeys", [journey.key for journey in self.document.journeys], "key", "journey")
        for index, journey in enumerate(self.document.journeys):
            self.journey_check(f"journeys[{index}]", journey)

    def journey_check(self, path: str, journey: JourneyEntry) -> None:
        self.references(f"{path}.triggers", journey.triggers, self.guidelines, "guideline")
        self.references(f"{path}.tags", journey.tags, self.tags, "tag")
        self.unique(f"{path}.states", [state.key for state in journey.states], "key", "state")
        states = {state.key: state for state in journey.states}
        initial = [index for index, state in enumerate(journey.states) if state.initial]
        if not initial:
            self.error(f"{path}.states", "a journey needs exactly one initial state (none is marked initial: true)")
        for index in initial[1:]:
            self.error(
                f"{path}.states[{index}].initial",
                f'a journey needs exactly one initial state ("{journey.states[initial[0]].key}" is already initial)',
            )
        for index, state in enumerate(journey.states):
            state_path = f"{path}.states[{index}]"
            if state.kind == "chat" and not (state.action or "").strip():
                self.error(f"{state_path}.action", "a chat state needs an action")
            if state.kind == "tool":
                if state.tool is None:
                    self.error(f"{state_path}.tool", "a tool state needs a tool")
                elif state.tool not in self.tools:
                    self.error(f"{state_path}.tool", f'unknown tool "{state.tool}"')
            elif state.tool is not None:
                self.error(f"{state_path}.tool", f"only a tool state runs a tool (this state is a {state.kind} state)")
            if state.kind == "end" and state.initial:
                self.error(f"{state_path}.initial", "an end state cannot be the initial state")
            self.references(f"{state_path}.tools", state.tools, self.tools, "tool")
            self.references(f"{state_path}.canned_responses", state.canned_responses, self.canned, "canned response")
        seen: dict[tuple[str, str, str], int] = {}
        for index, transition in enumerate(journey.transitions):
            transition_path = f"{path}.transitions[{index}]"
            for side in ("source", "target"):
                key = getattr(transition, side)
                if key not in states:
                    self.error(f"{transition_path}.{side}", f'unknown state "{key}"')
            source = states.get(transition.source)
            if source is not None and source.kind == "end":
                self.error(f"{transition_path}.source", f'end state "{source.key}" cannot have outgoing transitions')
            identity = (transition.source, transition.target, (transition.condition or "").strip())
            if identity in seen:
                self.error(transition_path, f"duplicate of transitions[{seen[identity]}]")
            seen.setdefault(identity, index)

    def variable_check(self, path: str, variable: ContextVariableEntry) -> None:
        if variable.tool is not None and variable.tool not in self.tools:
            self.error(f"{path}.tool", f'unknown tool "{variable.tool}"')
        if variable.freshness_seconds is not None and variable.tool is None:
            self.error(f"{path}.freshness_seconds", "freshness only applies to a variable fed by a tool")
        self.references(f"{path}.tags", variable.tags, self.tags, "tag")
        scopes: Counter[tuple[str, str | None]] = Counter()
        for index, value in enumerate(variable.values):
            value_path = f"{path}.values[{index}]"
            if value.scope == "default" and value.key is not None:
                self.error(f"{value_path}.key", "a default value has no key (use key: null)")
            if value.scope == "customer_tag":
                if value.key is None:
                    self.error(f"{value_path}.key", "a customer_tag value needs the tag name as key")
                elif value.key not in self.tags:
                    self.error(f"{value_path}.key", f'unknown tag "{value.key}"')
            if len(json.dumps(value.value)) > CONTEXT_VALUE_MAX_BYTES:
                self.error(f"{value_path}.value", f"the value is larger than {CONTEXT_VALUE_MAX_BYTES} bytes as JSON")
            scopes[(value.scope, value.key)] += 1
            if scopes[(value.scope, value.key)] == 2:
                described = "default value" if value.scope == "default" else f'value for tag "{value.key}"'
                self.error(value_path, f"duplicate {described}")

    def canned_check(self, path: str, response: CannedResponseEntry) -> None:
        fields = [field.model_dump() for field in response.fields]
        for message in canned_fields_errors(fields):
            self.error(f"{path}.fields", message[:1].lower() + message[1:].rstrip("."))
        for message in canned_template_errors(response.template, [field.name for field in response.fields]):
            self.error(f"{path}.template", message[:1].lower() + message[1:].rstrip("."))
        for index, field in enumerate(response.fields):
            if field.kind == "variable" and field.name not in self.variables:
                self.error(f"{path}.fields[{index}].name", f'unknown context variable "{field.name}"')
        self.references(f"{path}.tags", response.tags, self.tags, "tag")
        self.references(f"{path}.guidelines", response.guidelines, self.guidelines, "guideline")
        for index, reference in enumerate(response.journey_states):
            journey_key, _, state_key = reference.partition("/")
            journey = self.journeys.get(journey_key)
            if journey is None:
                self.error(f"{path}.journey_states[{index}]", f'unknown journey "{journey_key}"')
            elif state_key not in {state.key for state in journey.states}:
                self.error(f"{path}.journey_states[{index}]", f'unknown state "{state_key}" in journey "{journey_key}"')
        self.duplicates(f"{path}.journey_states", response.journey_states, "journey state")

    def tool_check(self, path: str, tool: ToolEntry) -> None:
        if tool.implementation == "remote":
            if tool.service is None:
                self.error(f"{path}.service", "a remote tool needs a tool service")
            elif tool.service not in self.services:
                self.error(f"{path}.service", f'unknown tool service "{tool.service}"')
        elif tool.service is not None:
            self.error(f"{path}.service", "a python tool has no tool service (use service: null)")
        self.unique(f"{path}.parameters", [parameter.name for parameter in tool.parameters], "name", "parameter")
        for index, parameter in enumerate(tool.parameters):
            parameter_path = f"{path}.parameters[{index}]"
            if parameter.type == "enum" or (parameter.type == "list" and parameter.items == "enum"):
                if not parameter.enum:
                    self.error(f"{parameter_path}.enum", "an enum parameter (or a list of enums) needs its values")
                self.duplicates(f"{parameter_path}.enum", parameter.enum, "value")
            elif parameter.enum:
                self.error(
                    f"{parameter_path}.enum",
                    f"only an enum parameter or a list of enums has values (this one is {parameter.type})",
                )
            if parameter.type == "list" and parameter.items is None:
                self.error(f"{parameter_path}.items", "a list parameter needs its element type")
            elif parameter.type != "list" and parameter.items is not None:
                self.error(
                    f"{parameter_path}.items",
                    f"only a list parameter has an element type (this one is {parameter.type})",
                )
