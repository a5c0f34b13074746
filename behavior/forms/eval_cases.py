"""The studio's test case forms: the case editor (one form for new, edit and "from a sandbox session": customer,
scripted messages with their assertions or a simulated customer, conversation assertions, tool mocks, or the
whole case as YAML), the list's filters, and the suite's export and import.

The editor posts fields named by their path in the suite format (`turns.0.assertions.1.pattern`), so every
message `case_parse` gives lands beside the field it names; rows are added, removed and moved by submit buttons
(`op=add:turns`, `op=remove:mocks.0`) that re-render the form with everything typed kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms

from agents.models import Agent
from behavior.evaluations.format import ASSERTION_TYPES, CASE_KEY_PATTERN, MAX_TURNS, case_data, case_parse
from behavior.forms.common import parsed_value, shown_value
from behavior.forms.versions import IMPORT_MAX_BYTES, _megabytes
from behavior.models import CannedResponse, Guideline, Journey, JourneyState, RelationshipKind
from behavior.services.documents import document_dump, document_load
from config.api_schemas import text_problem
from config.errors import ValidationFailed

QUERY_MAX = 200
TEXT_MAX = 4000
YAML_MAX = 200_000
ROWS_MAX = 60  # rows of one kind read from a post (the format's own limits give the clear message)
ARGUMENTS_MAX = 30

# The assertion types as the type select shows them, in groups.
ASSERTION_LABELS: dict[str, str] = {
    "guideline_matched": "Guideline matched",
    "guideline_not_matched": "Guideline not matched",
    "guideline_dropped": "Guideline dropped",
    "tool_called": "Tool called (with arguments)",
    "tool_not_called": "Tool not called",
    "journey_entered": "Journey entered",
    "journey_in_state": "Journey in state",
    "journey_completed": "Journey completed",
    "journey_exited": "Journey exited",
    "handoff_requested": "Handoff to a human requested",
    "no_handoff": "No handoff",
    "canned_used": "Canned response used",
    "reply_contains": "Reply contains",
    "reply_not_contains": "Reply does not contain",
    "reply_matches": "Reply matches a pattern",
    "criterion": "Criterion judged by an LLM",
    "turns_to_goal": "Goal reached within N turns",
    "tokens_under": "Tokens under a budget",
    "latency_under": "Latency under a budget",
}
ASSERTION_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Guidelines", ("guideline_matched", "guideline_not_matched", "guideline_dropped")),
    ("Tools", ("tool_called", "tool_not_called")),
    ("Journeys", ("journey_entered", "journey_in_state", "journey_completed", "journey_exited")),
    ("Handoff", ("handoff_requested", "no_handoff")),
    ("Reply", ("canned_used", "reply_contains", "reply_not_contains", "reply_matches", "criterion")),
    ("Budgets", ("turns_to_goal", "tokens_under", "latency_under")),
)
assert set(ASSERTION_LABELS) == set(ASSERTION_TYPES)  # a new type in the format needs a label here

# The fields each assertion type needs (besides `type` and `note`).
ASSERTION_FIELDS: dict[str, tuple[str, ...]] = {
    "guideline_matched": ("guideline",),
    "guideline_not_matched": ("guideline",),
    "guideline_dropped": ("guideline", "reason_kind"),
    "tool_called": ("tool", "arguments"),
    "tool_not_called": ("tool",),
    "journey_entered": ("journey",),
    "journey_in_state": ("journey", "state"),
    "journey_completed": ("journey",),
    "journey_exited": ("journey",),
    "handoff_requested": (),
    "no_handoff": (),
    "canned_used": ("canned",),
    "reply_contains": ("text",),
    "reply_not_contains": ("text",),
    "reply_matches": ("pattern",),
    "criterion": ("criterion",),
    "turns_to_goal": ("max_turns",),
    "tokens_under": ("max_tokens",),
    "latency_under": ("max_ms",),
}
ASSERTION_TEXT_FIELDS = (
    "guideline",
    "reason_kind",
    "tool",
    "journey",
    "state",
    "canned",
    "text",
    "pattern",
    "criterion",
    "max_turns",
    "max_tokens",
    "max_ms",
    "note",
)
INTEGER_FIELDS = frozenset({"max_turns", "max_tokens", "max_ms"})
MATCHER_OPS: tuple[tuple[str, str], ...] = (
    ("equals", "equals"),
    ("contains", "contains (text)"),
    ("regex", "matches regex"),
    ("any", "any value"),
)
EMPTY_MATCHER = {"name": "", "op": "equals", "value": ""}
KINDS: tuple[tuple[str, str], ...] = (("scripted", "Scripted messages"), ("simulated", "Simulated customer"))
DROP_KINDS = tuple(RelationshipKind.values)

_TURN = re.compile(r"^turns\.(\d{1,3})\.message$")
_TURN_ASSERTION = re.compile(r"^turns\.(\d{1,3})\.assertions\.(\d{1,3})\.type$")
_CASE_ASSERTION = re.compile(r"^assertions\.(\d{1,3})\.type$")
_MOCK = re.compile(r"^mocks\.(\d{1,3})\.tool$")
_OP = re.compile(r"^(add|remove|up|down):([a-z_.0-9]{1,80})$")


# ---------------------------------------------------------------- the draft: what the editor shows, as text


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _matcher_rows(arguments: Any) -> list[dict[str, str]]:
    rows = []
    for name, matcher in (arguments or {}).items() if isinstance(arguments, Mapping) else []:
        if isinstance(matcher, Mapping) and "op" in matcher:
            op, value = str(matcher.get("op") or "equals"), matcher.get("value")
        else:
            op, value = "equals", matcher
        shown = "" if op == "any" else (value if op in ("contains", "regex") and isinstance(value, str) else None)
        if shown is None:
            shown = shown_value(value)
        rows.append({"name": str(name), "op": op, "value": shown})
    return rows


def _assertion_draft(data: Mapping[str, Any]) -> dict[str, Any]:
    draft: dict[str, Any] = {name: "" for name in ASSERTION_TEXT_FIELDS}
    draft["type"] = str(data.get("type") or "guideline_matched")
    for name in ASSERTION_TEXT_FIELDS:
        if name in data:
            draft[name] = _text(data.get(name))
    draft["arguments"] = _matcher_rows(data.get("arguments"))
    return draft


def _mock_draft(data: Mapping[str, Any]) -> dict[str, Any]:
    result = data.get("result")
    return {
        "tool": _text(data.get("tool")),
        "arguments": _matcher_rows(data.get("arguments")),
        "result": "" if result is None else shown_value(result),
        "error": _text(data.get("error")),
    }


def empty_assertion(kind: str = "guideline_matched") -> dict[str, Any]:
    return _assertion_draft({"type": kind})


def empty_draft() -> dict[str, Any]:
    return draft_from_data({"kind": "scripted", "turns": [{"message": "", "assertions": []}]})


def draft_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's text values for suite-format case data (a stored definition or a sandbox proposal)."""
    customer = data.get("customer") or {}
    simulation = data.get("simulation") or {}
    variables = customer.get("variables") or {}
    facts = simulation.get("facts") or {}
    return {
        "key": _text(data.get("key")),
        "name": _text(data.get("name")),
        "description": _text(data.get("description")),
        "kind": "simulated" if data.get("kind") == "simulated" else "scripted",
        "tags": ", ".join(str(tag) for tag in data.get("tags") or []),
        "customer": {
            "name": _text(customer.get("name", "Test customer")),
            "tags": ", ".join(str(tag) for tag in customer.get("tags") or []),
            "variables": [{"name": str(name), "value": shown_value(value)} for name, value in variables.items()],
        },
        "turns": [
            {
                "message": _text(turn.get("message")),
                "assertions": [_assertion_draft(item) for item in turn.get("assertions") or []],
            }
            for turn in data.get("turns") or []
        ],
        "simulation": {
            "persona": _text(simulation.get("persona")),
            "goal": _text(simulation.get("goal")),
            "milestones": "\n".join(str(item) for item in simulation.get("milestones") or []),
            "facts": "\n".join(f"{name} = {value}" for name, value in facts.items()),
            "opening": _text(simulation.get("opening")),
            "max_turns": _text(simulation.get("max_turns", 6)),
        },
        "assertions": [_assertion_draft(item) for item in data.get("assertions") or []],
        "mocks": [_mock_draft(item) for item in data.get("mocks") or []],
    }


def _get(post: Any, name: str, limit: int = TEXT_MAX + 100) -> str:
    return str(post.get(name) or "")[:limit]


def _indices(post: Any, pattern: re.Pattern[str], prefix: tuple[str, ...] = ()) -> list[int]:
    found = set()
    for name in post:
        match = pattern.match(name)
        if match and match.groups()[: len(prefix)] == prefix:
            found.add(int(match.groups()[len(prefix)]))
    return sorted(found)[:ROWS_MAX]


def _rows_from_post(post: Any, base: str, *, with_op: bool = True) -> list[dict[str, str]]:
    names = post.getlist(f"{base}.name")[: ARGUMENTS_MAX + 10]
    ops = post.getlist(f"{base}.op")
    values = post.getlist(f"{base}.value")
    rows = []
    for index, name in enumerate(names):
        row = {"name": name.strip()[:200], "value": (values[index] if index < len(values) else "")[:TEXT_MAX]}
        if with_op:
            op = ops[index] if index < len(ops) else "equals"
            row["op"] = op if op in dict(MATCHER_OPS) else "equals"
        rows.append(row)
    return rows


def _assertion_from_post(post: Any, base: str) -> dict[str, Any]:
    draft: dict[str, Any] = {name: _get(post, f"{base}.{name}") for name in ASSERTION_TEXT_FIELDS}
    kind = _get(post, f"{base}.type", 40)
    draft["type"] = kind if kind in ASSERTION_FIELDS else "guideline_matched"
    draft["arguments"] = _rows_from_post(post, f"{base}.arguments")
    return draft


def draft_from_post(post: Any) -> dict[str, Any]:
    """The editor's values as posted (rows renumbered in order; nothing typed is dropped)."""
    turns = []
    for turn_index in _indices(post, _TURN):
        base = f"turns.{turn_index}"
        assertion_indices = _indices(post, _TURN_ASSERTION, (str(turn_index),))
        turns.append(
            {
                "message": _get(post, f"{base}.message"),
                "assertions": [_assertion_from_post(post, f"{base}.assertions.{i}") for i in assertion_indices],
            }
        )
    return {
        "key": _get(post, "key", 200),
        "name": _get(post, "name", 400),
        "description": _get(post, "description"),
        "kind": "simulated" if post.get("kind") == "simulated" else "scripted",
        "tags": _get(post, "tags", 2000),
        "customer": {
            "name": _get(post, "customer.name", 400),
            "tags": _get(post, "customer.tags", 2000),
            "variables": _rows_from_post(post, "customer.variables", with_op=False),
        },
        "turns": turns,
        "simulation": {
            name: _get(post, f"simulation.{name}", TEXT_MAX * 4 if name in ("milestones", "facts") else TEXT_MAX + 100)
            for name in ("persona", "goal", "milestones", "facts", "opening", "max_turns")
        },
        "assertions": [_assertion_from_post(post, f"assertions.{i}") for i in _indices(post, _CASE_ASSERTION)],
        "mocks": [
            {
                "tool": _get(post, f"mocks.{i}.tool", 200),
                "arguments": _rows_from_post(post, f"mocks.{i}.arguments"),
                "result": _get(post, f"mocks.{i}.result", TEXT_MAX * 4),
                "error": _get(post, f"mocks.{i}.error"),
            }
            for i in _indices(post, _MOCK)
        ],
    }


# ---------------------------------------------------------------- from the draft to suite-format data


def _split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _matchers(rows: list[dict[str, str]], path: str, problems: list[dict[str, str]]) -> dict[str, Any]:
    matchers: dict[str, Any] = {}
    for row in rows:
        if not row["name"] and not row["value"].strip():
            continue
        if not row["name"]:
            problems.append({"path": path, "message": f"the argument with value {row['value'][:40]!r} needs a name"})
            continue
        if row["name"] in matchers:
            problems.append({"path": path, "message": f"the argument {row['name'][:60]!r} is listed twice"})
            continue
        op = row.get("op", "equals")
        if op == "any":
            matchers[row["name"]] = {"op": "any"}
        elif op in ("contains", "regex"):
            matchers[row["name"]] = {"op": op, "value": row["value"]}
        else:
            matchers[row["name"]] = {"op": "equals", "value": parsed_value(row["value"])}
    return matchers


def _assertion_data(draft: Mapping[str, Any], path: str, problems: list[dict[str, str]]) -> dict[str, Any]:
    kind = draft["type"]
    data: dict[str, Any] = {"type": kind}
    for name in ASSERTION_FIELDS[kind]:
        if name == "arguments":
            data["arguments"] = _matchers(draft["arguments"], f"{path}.arguments", problems)
        elif name == "reason_kind" and not draft[name].strip():
            continue
        else:
            data[name] = draft[name]
    if draft.get("note", "").strip():
        data["note"] = draft["note"]
    return data


def _facts(text: str, path: str, problems: list[dict[str, str]]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            problems.append({"path": path, "message": f"line {number} is not “name = value”: {line[:60]!r}"})
            continue
        facts[name.strip()] = value.strip()
    return facts


def draft_data(draft: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Suite-format data for `case_parse`, and the problems found on the way (a fact line without "=", an argument
    row without a name), each with the path of its field. Row indices are kept, so the paths of `case_parse`'s
    messages name the rows the editor shows."""
    problems: list[dict[str, str]] = []
    customer = draft["customer"]
    variables: dict[str, Any] = {}
    for row in customer["variables"]:
        if not row["name"] and not row["value"].strip():
            continue
        if not row["name"]:
            problems.append({"path": "customer.variables", "message": "each variable value needs a variable name"})
            continue
        variables[row["name"]] = parsed_value(row["value"])
    data: dict[str, Any] = {
        "key": draft["key"],
        "name": draft["name"],
        "description": draft["description"],
        "kind": draft["kind"],
        "tags": _split_tags(draft["tags"]),
        "customer": {"name": customer["name"], "tags": _split_tags(customer["tags"]), "variables": variables},
        "assertions": [
            _assertion_data(item, f"assertions.{index}", problems) for index, item in enumerate(draft["assertions"])
        ],
        "mocks": [],
    }
    if draft["kind"] == "scripted":
        data["turns"] = [
            {
                "message": turn["message"],
                "assertions": [
                    _assertion_data(item, f"turns.{index}.assertions.{number}", problems)
                    for number, item in enumerate(turn["assertions"])
                ],
            }
            for index, turn in enumerate(draft["turns"])
        ]
    else:
        simulation = draft["simulation"]
        data["simulation"] = {
            "persona": simulation["persona"],
            "goal": simulation["goal"],
            "milestones": [line.strip() for line in simulation["milestones"].splitlines() if line.strip()],
            "facts": _facts(simulation["facts"], "simulation.facts", problems),
            "opening": simulation["opening"],
            "max_turns": simulation["max_turns"].strip() or 6,
        }
    for index, mock in enumerate(draft["mocks"]):
        item: dict[str, Any] = {
            "tool": mock["tool"],
            "arguments": _matchers(mock["arguments"], f"mocks.{index}.arguments", problems),
        }
        if mock["result"].strip():
            item["result"] = parsed_value(mock["result"])
        if mock["error"].strip():
            item["error"] = mock["error"]
        data["mocks"].append(item)
    return data, problems


def draft_yaml(draft: Mapping[str, Any]) -> str:
    """The draft as the YAML a power user edits: the format's own order when it is valid, else as typed."""
    data, _ = draft_data(draft)
    try:
        data = case_data(case_parse(data))
    except ValidationFailed:
        for name in ("description", "tags", "turns", "simulation", "assertions", "mocks"):
            if data.get(name) in ("", [], None, {}):
                data.pop(name, None)
    return document_dump(data, "yaml")


def yaml_case(text: str) -> dict[str, Any]:
    """The case data in an "Edit as YAML" text, validated: ValidationFailed names the line or the field."""
    data = document_load(text, "yaml")
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The YAML does not hold a test case.",
            details=[{"path": "", "message": "a test case is a mapping: key, name, kind, turns…"}],
        )
    problem = text_problem(data)
    if problem is not None:
        raise ValidationFailed(f"{problem[0]}: {problem[1]}", details=[{"path": problem[0], "message": problem[1]}])
    return case_data(case_parse(data))


# ---------------------------------------------------------------- row operations (the "add a row" buttons)


def _container(draft: dict[str, Any], path: str) -> tuple[Any, str] | None:
    """The list a path names and its last part: `turns.0.assertions` -> (turn 0's assertion list, "assertions")."""
    parts = path.split(".")
    node: Any = draft
    for part in parts:
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node, parts[-1]


def draft_apply(draft: dict[str, Any], op: str) -> bool:
    """Apply one row operation (`add:turns`, `remove:turns.1.assertions.0`, `up:turns.2`); False when unknown."""
    match = _OP.match(op or "")
    if not match:
        return False
    verb, path = match.groups()
    if verb == "add":
        found = _container(draft, path)
        if found is None or not isinstance(found[0], list) or len(found[0]) >= ROWS_MAX:
            return False
        rows, name = found
        if name == "turns":
            rows.append({"message": "", "assertions": []})
        elif name == "assertions":
            rows.append(empty_assertion("no_handoff" if path == "assertions" else "guideline_matched"))
        elif name == "mocks":
            rows.append({"tool": "", "arguments": [], "result": "", "error": ""})
        elif name == "arguments":
            rows.append({"name": "", "op": "equals", "value": ""})
        elif name == "variables":
            rows.append({"name": "", "value": ""})
        else:
            return False
        return True
    head, _, last = path.rpartition(".")
    found = _container(draft, head) if head else None
    if found is None or not isinstance(found[0], list) or not last.isdigit() or int(last) >= len(found[0]):
        return False
    rows, index = found[0], int(last)
    if verb == "remove":
        rows.pop(index)
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return True


# ---------------------------------------------------------------- where each message goes


def anchors(draft: Mapping[str, Any]) -> set[str]:
    """Every path the editor shows messages at: each field, each row and each list."""
    found = {"key", "name", "description", "kind", "tags", "customer", "customer.name", "customer.tags"}
    found |= {"customer.variables", "turns", "assertions", "mocks", "simulation"}
    found |= {f"simulation.{name}" for name in ("persona", "goal", "milestones", "facts", "opening", "max_turns")}

    def assertion_paths(base: str) -> set[str]:
        return {base, f"{base}.type", *(f"{base}.{name}" for name in (*ASSERTION_TEXT_FIELDS, "arguments"))}

    for index, turn in enumerate(draft["turns"]):
        found |= {f"turns.{index}", f"turns.{index}.message", f"turns.{index}.assertions"}
        for number, _ in enumerate(turn["assertions"]):
            found |= assertion_paths(f"turns.{index}.assertions.{number}")
    for index, _ in enumerate(draft["assertions"]):
        found |= assertion_paths(f"assertions.{index}")
    for index, _ in enumerate(draft["mocks"]):
        found |= {f"mocks.{index}", *(f"mocks.{index}.{name}" for name in ("tool", "arguments", "result", "error"))}
    return found


_PLAIN_MESSAGES = {
    "String should have at least 1 character": "This cannot be empty.",
    "Field required": "This is required.",
}


def humane_details(details: list[dict[str, str]]) -> list[dict[str, str]]:
    """The format's messages in plainer words where pydantic's are cryptic."""
    return [
        {**item, "message": _PLAIN_MESSAGES.get(item.get("message", ""), item.get("message", ""))} for item in details
    ]


def nearest_anchor(path: str, known: set[str]) -> str:
    """The nearest path the editor shows a message at (`…arguments.ref.value` -> `…arguments`); "" for none."""
    parts = path.split(".") if path else []
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts)


def placed_errors(details: list[dict[str, str]], known: set[str]) -> dict[str, list[str]]:
    """Each message under the nearest path the editor shows (`turns.0.assertions.1.arguments.ref.value` goes to
    the row's arguments); messages with no such path under "" (shown at the top only)."""
    placed: dict[str, list[str]] = {}
    for detail in details:
        where = nearest_anchor(str(detail.get("path") or ""), known)
        message = str(detail.get("message") or "invalid")
        placed.setdefault(where, [])
        if message not in placed[where]:
            placed[where].append(message)
    return placed


# ---------------------------------------------------------------- the agent's names the selects offer


def editor_choices(agent: Agent) -> dict[str, Any]:
    """What the selects offer: the agent's guideline keys, tools, journeys with their states, canned responses."""
    states: dict[str, list[str]] = {}
    for journey_key, state_key in JourneyState.objects.filter(journey__agent=agent).values_list("journey__key", "key"):
        states.setdefault(journey_key, []).append(state_key)
    return {
        "guidelines": list(Guideline.objects.filter(agent=agent).order_by("key").values_list("key", flat=True)),
        "tools": list(agent.tools.order_by("name").values_list("name", flat=True)),
        "journeys": list(Journey.objects.filter(agent=agent).order_by("key").values_list("key", flat=True)),
        "states": sorted(states.items()),
        "canned": list(CannedResponse.objects.filter(agent=agent).order_by("key").values_list("key", flat=True)),
        "state_keys": {key for _, keys in states.items() for key in keys},
        "drop_kinds": DROP_KINDS,
    }


# ---------------------------------------------------------------- the list's filters, export and import


class CaseFilterForm(forms.Form):
    """The list's search and filters; anything malformed is ignored rather than refused (it is a GET)."""

    q = forms.CharField(required=False, max_length=QUERY_MAX, label="Search")
    tag = forms.CharField(required=False, max_length=80)
    kind = forms.ChoiceField(required=False, choices=[("", "Both"), *KINDS])

    def __init__(self, data: Any, **kwargs: Any) -> None:
        trimmed = {name: (data.get(name) or "").strip()[:QUERY_MAX] for name in self.base_fields}
        super().__init__(trimmed, **kwargs)

    def active(self) -> dict[str, str]:
        """The filters that apply, for links that keep them (pages, "back to the list")."""
        if not self.is_valid():
            return {name: value for name, value in self.data.items() if value and name in ("q", "tag")}
        return {name: value for name, value in self.cleaned_data.items() if value}


class SuiteExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("yaml", "YAML"), ("json", "JSON")], required=False)

    def fmt(self) -> str:
        return "json" if self.is_valid() and self.cleaned_data.get("format") == "json" else "yaml"


class SuiteImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="Suite file",
        help_text=f"A .yaml, .yml or .json test suite exported from Decorum, at most {_megabytes(IMPORT_MAX_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json,application/json,application/yaml"}),
    )
    text = forms.CharField(
        required=False,
        label="Or paste the suite",
        max_length=IMPORT_MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text="YAML or JSON (JSON is YAML too).",
    )
    replace = forms.BooleanField(
        required=False,
        label="Replace the suite: delete this agent's test cases that the file does not hold",
        help_text="Without it, cases with a new key are added and those with a known key are updated.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is not None and upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {_megabytes(upload.size)}; the limit is {_megabytes(IMPORT_MAX_BYTES)}."
            )
        if upload is not None and not (upload.name or "").lower().endswith((".yaml", ".yml", ".json")):
            raise forms.ValidationError("Choose a .yaml, .yml or .json file.")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("file") and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Choose a file or paste the suite.")
        return cleaned

    def source(self) -> tuple[bytes | str, str]:
        """The text to read and its format ("json" for a .json file, else "yaml", which reads JSON as well)."""
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read(), ("json" if upload.name.lower().endswith(".json") else "yaml")
        return self.cleaned_data["text"], "yaml"


# ---------------------------------------------------------------- what the editor template reads


def _with_empty_row(rows: list[dict[str, str]], empty: dict[str, str]) -> list[dict[str, str]]:
    """The rows, ending with one empty row to type the next one in (not one more per re-render)."""
    last = rows[-1] if rows else None
    if last is not None and not last.get("name") and not str(last.get("value", "")).strip():
        return list(rows)
    return [*rows, dict(empty)]


def _assertion_rows(rows: list[dict[str, Any]], base: str, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    shown = []
    for index, item in enumerate(rows):
        path = f"{base}.{index}"
        shown.append(
            {
                "path": path,
                "id": path.replace(".", "-"),
                "index": index,
                "values": item,
                "label": ASSERTION_LABELS.get(item["type"], item["type"]),
                "row_errors": errors.get(path, []),
                "errors": {
                    name: errors.get(f"{path}.{name}", []) for name in ("type", "arguments", *ASSERTION_TEXT_FIELDS)
                },
                "arguments": _with_empty_row(item["arguments"], EMPTY_MATCHER),
            }
        )
    return shown


def editor_rows(draft: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The draft's rows with their paths, ids and messages, as the editor template shows them."""
    turns = []
    for index, turn in enumerate(draft["turns"]):
        path = f"turns.{index}"
        turns.append(
            {
                "path": path,
                "id": path.replace(".", "-"),
                "index": index,
                "number": index + 1,
                "message": turn["message"],
                "row_errors": errors.get(path, []),
                "message_errors": errors.get(f"{path}.message", []),
                "list_errors": errors.get(f"{path}.assertions", []),
                "assertions": _assertion_rows(turn["assertions"], f"{path}.assertions", errors),
                "first": index == 0,
                "last": index == len(draft["turns"]) - 1,
            }
        )
    mocks = []
    for index, mock in enumerate(draft["mocks"]):
        path = f"mocks.{index}"
        mocks.append(
            {
                "path": path,
                "id": path.replace(".", "-"),
                "index": index,
                "values": mock,
                "row_errors": errors.get(path, []),
                "errors": {name: errors.get(f"{path}.{name}", []) for name in ("tool", "arguments", "result", "error")},
                "arguments": _with_empty_row(mock["arguments"], EMPTY_MATCHER),
            }
        )
    return {
        "turns": turns,
        "assertions": _assertion_rows(draft["assertions"], "assertions", errors),
        "mocks": mocks,
        "variables": _with_empty_row(draft["customer"]["variables"], {"name": "", "value": ""}),
    }


KEY_HINT = "Lowercase letters, digits and dashes, e.g. refund-late-flight."
KEY_REGEX = CASE_KEY_PATTERN
MAX_TURNS_HINT = f"At most {MAX_TURNS} customer messages."
