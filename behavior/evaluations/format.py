"""The test suite format (docs/evaluations.md): test cases, their assertions and tool mocks as pydantic models.

A suite is `{"format": "decorum-test-suite", "version": 1, "agent": NAME, "cases": [CASE, ...]}` in YAML or JSON;
a stored TestCase holds the same CASE fields, so export and import are lossless. Every list and text is bounded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from config.errors import ValidationFailed

SUITE_FORMAT = "decorum-test-suite"
SUITE_VERSION = 1
CASE_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
MAX_TURNS = 30
MAX_ASSERTIONS = 40
MAX_MOCKS = 40
MAX_CASES_PER_SUITE = 1000
MAX_TEXT = 4000
MAX_REGEX = 500

Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex_checked(pattern: str) -> str:
    if len(pattern) > MAX_REGEX:
        raise ValueError(f"a regular expression of at most {MAX_REGEX} characters")
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    return pattern


class Matcher(_Strict):
    """How one tool argument is checked: `equals` a JSON value, `contains` a text (case-insensitive),
    matches a `regex`, or `any` value as long as the argument is present."""

    op: Literal["equals", "contains", "regex", "any"] = "equals"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> Matcher:
        if self.op in ("contains", "regex") and not isinstance(self.value, str):
            raise ValueError(f"{self.op} needs a text value")
        if self.op == "regex":
            _regex_checked(self.value)
        return self

    def describe(self) -> str:
        if self.op == "any":
            return "any value"
        return f"{self.op} {self.value!r}"


def _matchers(value: Any) -> Any:
    """Arguments may be written short: `{"booking_reference": "ABC123"}` means equals."""
    if not isinstance(value, Mapping):
        return value
    return {
        name: matcher if isinstance(matcher, Mapping) and "op" in matcher else {"op": "equals", "value": matcher}
        for name, matcher in value.items()
    }


class _Assertion(_Strict):
    note: Text = ""  # why the tester wants it; shown beside the result


class GuidelineMatched(_Assertion):
    type: Literal["guideline_matched"]
    guideline: Key


class GuidelineNotMatched(_Assertion):
    type: Literal["guideline_not_matched"]
    guideline: Key


class GuidelineDropped(_Assertion):
    type: Literal["guideline_dropped"]
    guideline: Key
    reason_kind: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""  # e.g. overrides


class ToolCalled(_Assertion):
    type: Literal["tool_called"]
    tool: Key
    arguments: dict[str, Matcher] = Field(default_factory=dict, max_length=30)

    _short = field_validator("arguments", mode="before")(_matchers)


class ToolNotCalled(_Assertion):
    type: Literal["tool_not_called"]
    tool: Key


class JourneyEntered(_Assertion):
    type: Literal["journey_entered"]
    journey: Key


class JourneyInState(_Assertion):
    type: Literal["journey_in_state"]
    journey: Key
    state: Key


class JourneyCompleted(_Assertion):
    type: Literal["journey_completed"]
    journey: Key


class JourneyExited(_Assertion):
    type: Literal["journey_exited"]
    journey: Key


class HandoffRequested(_Assertion):
    type: Literal["handoff_requested"]


class NoHandoff(_Assertion):
    type: Literal["no_handoff"]


class CannedUsed(_Assertion):
    type: Literal["canned_used"]
    canned: Key


class ReplyContains(_Assertion):
    type: Literal["reply_contains"]
    text: RequiredText


class ReplyNotContains(_Assertion):
    type: Literal["reply_not_contains"]
    text: RequiredText


class ReplyMatches(_Assertion):
    type: Literal["reply_matches"]
    pattern: RequiredText

    _checked = field_validator("pattern")(_regex_checked)


class Criterion(_Assertion):
    """A criterion in plain words, judged by an LLM that keeps its rationale."""

    type: Literal["criterion"]
    criterion: RequiredText


class TurnsToGoal(_Assertion):
    """Simulated cases: the goal is reached within `max_turns` customer messages."""

    type: Literal["turns_to_goal"]
    max_turns: int = Field(ge=1, le=MAX_TURNS)


class TokensUnder(_Assertion):
    type: Literal["tokens_under"]
    max_tokens: int = Field(ge=1, le=10_000_000)


class LatencyUnder(_Assertion):
    type: Literal["latency_under"]
    max_ms: int = Field(ge=1, le=600_000)


Assertion = Annotated[
    GuidelineMatched
    | GuidelineNotMatched
    | GuidelineDropped
    | ToolCalled
    | ToolNotCalled
    | JourneyEntered
    | JourneyInState
    | JourneyCompleted
    | JourneyExited
    | HandoffRequested
    | NoHandoff
    | CannedUsed
    | ReplyContains
    | ReplyNotContains
    | ReplyMatches
    | Criterion
    | TurnsToGoal
    | TokensUnder
    | LatencyUnder,
    Field(discriminator="type"),
]
ASSERTION_TYPES: tuple[str, ...] = (
    "guideline_matched",
    "guideline_not_matched",
    "guideline_dropped",
    "tool_called",
    "tool_not_called",
    "journey_entered",
    "journey_in_state",
    "journey_completed",
    "journey_exited",
    "handoff_requested",
    "no_handoff",
    "canned_used",
    "reply_contains",
    "reply_not_contains",
    "reply_matches",
    "criterion",
    "turns_to_goal",
    "tokens_under",
    "latency_under",
)
# Only meaningful for the whole conversation of a simulated case.
CONVERSATION_ONLY_TYPES = frozenset({"turns_to_goal"})


class ToolMock(_Strict):
    """A fixed result (or an error) for calls of `tool` whose arguments match; the first matching mock wins.
    Without a matching mock the agent's real tool runs."""

    tool: Key
    arguments: dict[str, Matcher] = Field(default_factory=dict, max_length=30)
    result: Any = None
    error: Text = ""

    _short = field_validator("arguments", mode="before")(_matchers)


class CaseCustomer(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = "Test customer"
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    variables: dict[str, Any] = Field(default_factory=dict, max_length=50)


class ScriptedTurn(_Strict):
    message: RequiredText
    assertions: list[Assertion] = Field(default_factory=list, max_length=MAX_ASSERTIONS)

    @field_validator("assertions")
    @classmethod
    def _turn_level(cls, value: list[Any]) -> list[Any]:
        for item in value:
            if item.type in CONVERSATION_ONLY_TYPES:
                raise ValueError(f"{item.type} applies to a whole simulated conversation, not to one turn")
        return value


class Simulation(_Strict):
    """An LLM plays the customer: who they are, what they want, the checkpoints on the way, and known facts."""

    persona: RequiredText
    goal: RequiredText
    milestones: list[RequiredText] = Field(default_factory=list, max_length=20)
    facts: dict[Key, Text] = Field(default_factory=dict, max_length=30)  # what the customer knows, e.g. PNR
    opening: Text = ""  # the first message; the simulator writes one when empty
    max_turns: int = Field(default=6, ge=1, le=MAX_TURNS)


class AgentOverrides(_Strict):
    """Agent settings a case runs with instead of the version's (e.g. try strict composition before switching)."""

    composition_mode: Literal["fluid", "composited", "strict"] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class CaseDefinition(_Strict):
    """One test case as stored and exchanged."""

    key: Annotated[str, StringConstraints(strip_whitespace=True, pattern=CASE_KEY_PATTERN)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Text = ""
    kind: Literal["scripted", "simulated"] = "scripted"
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    customer: CaseCustomer = Field(default_factory=CaseCustomer)
    turns: list[ScriptedTurn] = Field(default_factory=list, max_length=MAX_TURNS)
    simulation: Simulation | None = None
    assertions: list[Assertion] = Field(default_factory=list, max_length=MAX_ASSERTIONS)
    mocks: list[ToolMock] = Field(default_factory=list, max_length=MAX_MOCKS)
    agent: AgentOverrides = Field(default_factory=AgentOverrides)

    @model_validator(mode="after")
    def _kind_fits(self) -> CaseDefinition:
        if self.kind == "scripted":
            if not self.turns:
                raise ValueError("a scripted case needs at least one customer message in turns")
            if self.simulation is not None:
                raise ValueError("a scripted case has no simulation (set kind: simulated)")
            for item in self.assertions:
                if item.type in CONVERSATION_ONLY_TYPES:
                    raise ValueError(f"{item.type} applies to simulated cases only")
        else:
            if self.simulation is None:
                raise ValueError("a simulated case needs a simulation (persona, goal)")
            if self.turns:
                raise ValueError("a simulated case has no scripted turns: the simulated customer writes them")
        return self

    def all_assertions(self) -> list[Any]:
        """Every assertion, turn ones first."""
        return [item for turn in self.turns for item in turn.assertions] + list(self.assertions)


class Suite(_Strict):
    format: Literal["decorum-test-suite"] = "decorum-test-suite"
    version: Literal[1] = 1
    agent: Text = ""
    cases: list[CaseDefinition] = Field(default_factory=list, max_length=MAX_CASES_PER_SUITE)

    @model_validator(mode="after")
    def _keys_unique(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.key in seen:
                raise ValueError(f"two cases have the key {case.key!r}")
            seen.add(case.key)
        return self


def _path(location: tuple[Any, ...]) -> str:
    # pydantic names the union member in the location ("tool_called"); leave it out of the path
    parts = [str(part) for part in location if not (isinstance(part, str) and part in ASSERTION_TYPES)]
    return ".".join(parts)


def validation_failed(error: ValidationError, *, what: str, prefix: str = "") -> ValidationFailed:
    details = []
    for item in error.errors(include_url=False)[:50]:
        path = _path(tuple(item.get("loc", ())))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"path": f"{prefix}{path}".strip("."), "message": message})
    first = details[0] if details else {"path": "", "message": "invalid"}
    where = f" at {first['path']}" if first["path"] else ""
    return ValidationFailed(f"The {what} is not valid{where}: {first['message']}", details=details)


def case_parse(data: Any, *, prefix: str = "") -> CaseDefinition:
    """A CaseDefinition from plain data, or ValidationFailed naming each wrong field."""
    try:
        return CaseDefinition.model_validate(data)
    except ValidationError as error:
        raise validation_failed(error, what="test case", prefix=prefix) from None


def suite_parse(data: Any) -> Suite:
    try:
        return Suite.model_validate(data)
    except ValidationError as error:
        raise validation_failed(error, what="test suite") from None


def case_data(case: CaseDefinition) -> dict[str, Any]:
    """Plain data in the documented key order, without empty optional parts (so exports stay short)."""
    data = case.model_dump(mode="json")
    for name in ("description", "tags", "turns", "simulation", "assertions", "mocks"):
        if data.get(name) in ("", [], None):
            data.pop(name, None)
    data["agent"] = case.agent.as_dict()
    if not data["agent"]:
        del data["agent"]
    for assertion in [item for turn in data.get("turns", []) for item in turn["assertions"]] + data.get(
        "assertions", []
    ):
        if assertion.get("note") == "":
            del assertion["note"]
    for mock in data.get("mocks", []):
        if mock.get("error") == "":
            del mock["error"]
    return data


def assertion_parse(data: Any) -> Any:
    """One assertion from plain data (the studio's assertion editor)."""
    try:
        return _ASSERTION_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise validation_failed(error, what="assertion") from None


_ASSERTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Assertion)
