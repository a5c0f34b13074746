"""API schemas of test cases and evaluation runs (input, patch and output per resource).

A test case travels in the suite format (docs/evaluations.md): the input schema names its top-level fields, and
behavior.evaluations.format validates the rest (assertions, mocks, simulation) with messages that name the field.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints, field_validator

from behavior.evaluations.format import MAX_ASSERTIONS, MAX_MOCKS, MAX_TURNS
from behavior.evaluations.models import EvalCase, EvalRun
from behavior.evaluations.runs import MAX_REPEATS
from config.api_schemas import MAX_ID, InputSchema, ObjectId, QuerySchema, patch_schema

SUITE_DOC = "docs/evaluations.md"
ShortText = Annotated[str, StringConstraints(max_length=200)]
CaseKey = Annotated[str, StringConstraints(max_length=80)]
TagName = Annotated[str, StringConstraints(max_length=80)]
Plain = dict[str, Any]

# ------------------------------------------------------------------------------------------------- test cases


class CaseFilter(QuerySchema):
    tag: TagName | None = Field(None, description="Only cases with this tag.")
    kind: Literal["scripted", "simulated"] | None = Field(None, description="Only scripted or simulated cases.")
    q: ShortText | None = Field(None, description="Text search in the key and the name.")


class CaseIn(InputSchema):
    """One test case in the suite format. `turns` (scripted), `simulation` (simulated), `assertions` and `mocks`
    are validated as the format describes; an error names the field (e.g. turns.0.assertions.1.pattern)."""

    key: CaseKey = Field(description="Unique per agent: lowercase letters, digits and hyphens.")
    name: ShortText
    description: str = ""
    kind: Literal["scripted", "simulated"] = "scripted"
    tags: Annotated[list[TagName], Field(max_length=20)] = []
    customer: Plain = Field({}, description="The test customer: {name, tags, variables}.")
    turns: Annotated[list[Plain], Field(max_length=MAX_TURNS)] = Field(
        [], description="Scripted cases: the customer messages in order, each {message, assertions}."
    )
    simulation: Plain | None = Field(
        None, description="Simulated cases: {persona, goal, milestones, facts, opening, max_turns}."
    )
    assertions: Annotated[list[Plain], Field(max_length=MAX_ASSERTIONS)] = Field(
        [], description="Assertions on the whole conversation and its end state."
    )
    mocks: Annotated[list[Plain], Field(max_length=MAX_MOCKS)] = Field(
        [], description="Tool mocks: {tool, arguments, result | error}; the first matching one answers."
    )


# Every field optional; the ones sent replace the case's (lists whole); `revision` guards concurrent edits.
CasePatch = patch_schema(CaseIn, name="CasePatch")


class CaseOut(Schema):
    id: int
    agent: int = Field(alias="agent_id")
    key: str
    name: str
    kind: str
    tags: list[str]
    revision: int
    definition: Plain = Field(description=f"The case in the suite format ({SUITE_DOC}), as the export writes it.")
    source_session: uuid.UUID | None = Field(description="The sandbox conversation it was saved from, if any.")
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_source_session(case: EvalCase) -> uuid.UUID | None:
        return case.source_session.uid if case.source_session_id and case.source_session else None

    @staticmethod
    def resolve_created_by(case: EvalCase) -> str | None:
        return case.created_by.get_username() if case.created_by_id and case.created_by else None


class CaseFromSessionIn(InputSchema):
    session: uuid.UUID = Field(description="The public id of a conversation of this agent you may open.")
    offset: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="Replay up to this event (a flagged agent message: up to the customer message before it).",
    )
    save: bool = Field(False, description="false: answer the proposed case (200); true: create it (201).")
    overrides: Plain = Field(
        {}, description="With save: case fields that replace the proposal's (key, name, tags, turns ...)."
    )


class SuiteExportQuery(QuerySchema):
    format: Literal["json", "yaml"] = "json"
    tag: TagName | None = Field(None, description="Only cases with this tag.")


class SuiteImportQuery(QuerySchema):
    replace: bool = Field(False, description="Also delete the agent's cases the suite does not hold.")
    format: Literal["json", "yaml"] | None = Field(None, description="Overrides the Content-Type.")


class SuiteImportOut(Schema):
    created: int
    updated: int
    deleted: int


# ------------------------------------------------------------------------------------------------------ runs


class RunIn(InputSchema):
    version: int | str = Field(
        "draft", description='"draft" (the agent\'s current draft), "published", or a version number.'
    )
    keys: Annotated[list[CaseKey], Field(max_length=1000)] = Field([], description="Run these cases ...")
    tags: Annotated[list[TagName], Field(max_length=50)] = Field(
        [], description="... and the cases with one of these tags; both empty: the whole suite."
    )
    repeats: int = Field(1, ge=1, le=MAX_REPEATS, description="Attempts per case (pass^k and pass@k use them).")
    concurrency: int | None = Field(
        None, ge=1, le=64, description="Attempts at once (default and limit from the server's settings)."
    )
    min_pass_rate: float | None = Field(
        None, ge=0, le=1, description="The run passes when at least this share of attempts passes (default 1)."
    )
    baseline: ObjectId | None = Field(None, description="A run of this agent to compare with by default.")

    @field_validator("version", mode="before")
    @classmethod
    def _version_choice(cls, value: Any) -> int | str:
        if isinstance(value, str) and value.strip().lower() in ("draft", "published"):
            return value.strip().lower()
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
            return value
        if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,17}", value.strip()):
            return int(value.strip())
        raise ValueError('use "draft", "published" or a version number')


class RunOut(Schema):
    id: int
    agent: int = Field(alias="agent_id")
    status: str = Field(description="queued, running, passed, failed, cancelled or error.")
    purpose: str
    version: int | None = Field(description="The version number it runs; null: the draft.")
    version_label: str = Field(description='"v3", or "draft (revision 12)".')
    draft_revision: int | None
    selection: Plain = Field(description="{keys, tags} as chosen (both empty: the whole suite).")
    repeats: int
    concurrency: int
    min_pass_rate: float | None
    baseline: int | None = Field(alias="baseline_id")
    progress_done: int
    progress_total: int
    cancel_requested: bool
    summary: Plain = Field(
        description="Once finished: pass_rate, pass_hat_k, pass_at_k, assertion_compliance, tool_call_accuracy, "
        "turns_to_goal_mean, llm_calls, tokens, latency_p50/p95_ms, cost_usd, by_case."
    )
    error: str
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_version(run: EvalRun) -> int | None:
        return run.version.number if run.version_id and run.version else None

    @staticmethod
    def resolve_created_by(run: EvalRun) -> str | None:
        return run.created_by.get_username() if run.created_by_id and run.created_by else None


class RunDetailOut(RunOut):
    coverage: Plain = Field(
        description="Once finished: guidelines never active, journey states never reached and transitions never "
        "taken, canned responses never chosen, tools never called."
    )


class ResultFilter(QuerySchema):
    case: CaseKey | None = Field(None, description="Only the attempts of this case key.")
    status: Literal["pending", "queued", "running", "passed", "failed", "error", "cancelled"] | None = None
    failed: bool | None = Field(None, description="true: only failed and errored attempts.")


class AssertionResultOut(Schema):
    type: str
    label: str
    note: str = ""
    scope: int | Literal["conversation"] = Field(description='The turn index it applies to, or "conversation".')
    passed: bool
    cause: str | None = Field(None, description="Why it failed, in words, from the trace.")
    turn: int | None = Field(None, description="The turn the cause points at (its trace explains it).")
    rationale: str | None = Field(None, description="The judge's rationale (criterion assertions).")
    trace_url: str | None = Field(None, description="That turn's explainability panel.")


class ToolCallOut(Schema):
    tool: str
    arguments: Plain
    status: str
    missing: list[str] = []
    invalid: list[str] = []
    error: str | None = None
    mocked: bool = False


class TurnOut(Schema):
    index: int
    customer: str
    reply: str
    status: str
    outcome: str = ""
    turn_id: int | None
    active: list[str] = Field(description="Guidelines that reached the reply.")
    dropped: list[Plain] = Field(description="Guidelines dropped by a relationship: {guideline, kind, reason, by}.")
    tools: list[ToolCallOut]
    journeys_after: dict[str, Any]
    moves: list[Plain]
    canned: str | None = None
    handoff: bool = False
    llm_calls: int = 0
    tokens: int = 0
    wall_ms: float = 0.0
    trace_url: str | None = Field(None, description="This turn's explainability panel (the sandbox trace).")


class ResultOut(Schema):
    id: int
    case: int | None = Field(alias="case_id", description="The case (null once deleted; the key stays).")
    case_key: str
    repeat: int = Field(description="0-based attempt number.")
    status: str
    error: str
    assertions: list[AssertionResultOut]
    turns: list[TurnOut]
    metrics: Plain = Field(
        description="turns, llm_calls, tokens, wall_ms; simulated cases: goal_reached, turns_to_goal, rationale."
    )
    session: uuid.UUID | None = Field(description="The evaluation conversation (null before it starts).")
    session_url: str | None
    started_at: datetime | None
    finished_at: datetime | None


class CompareQuery(QuerySchema):
    baseline: ObjectId | None = Field(
        None, description="The run to compare with (default: the run's own baseline, if it has one)."
    )


class CompareOut(Schema):
    baseline: RunOut
    candidate: RunOut
    regressions: int
    improvements: int
    behavior_changes: int
    cases: list[Plain] = Field(
        description="Per case, regressions and improvements first: {case_key, change, baseline, candidate, turns "
        "(per turn: baseline, candidate, changed fields), behavior_changed}."
    )
