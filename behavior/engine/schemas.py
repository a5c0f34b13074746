"""The pydantic schemas every structured LLM call answers, by purpose (see SCHEMAS_BY_PURPOSE).

ARQ style: each schema asks for the relevant facts and a rationale before the verdict. Every field is
required and no object allows extra keys, so the schemas also work with strict JSON-schema modes.
Tool arguments travel as name/value string pairs (values may be JSON) and are typed by the engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolArgument(_Schema):
    name: str
    value: str  # a plain string or JSON text (numbers, booleans, lists)


class ToolCallProposal(_Schema):
    tool: str
    arguments: list[ToolArgument]


class GuidelineVerdict(_Schema):
    id: str  # the guideline key as listed in the prompt
    facts: str  # the facts of the conversation relevant to the condition, restated briefly
    rationale: str
    applies: bool  # for a previously applied guideline: did its condition arise again?
    tool_calls: list[ToolCallProposal]  # only for guidelines that list tools, only when they apply


class MatchingBatch(_Schema):
    """purpose "matching" (and "reevaluation" after tools): one verdict per listed id."""

    verdicts: list[GuidelineVerdict]


class JourneyStepSelection(_Schema):
    """purpose "journey": one call per active journey, in the matching hop."""

    facts: str
    rationale: str
    move: Literal["advance", "stay", "skip", "backtrack", "exit"]
    target_state: str  # the state key to move to; the current state for "stay"; "" for "exit"
    tool_calls: list[ToolCallProposal]  # for the target state's tool(s), when it has any


class FieldValue(_Schema):
    name: str
    value: str


class CannedSelection(_Schema):
    """purpose "canned_selection" (strict mode): the draft is never shown; only a rendered template is."""

    draft: str
    rationale: str
    choice: str  # a canned response id from the list, or "none"
    fields: list[FieldValue]  # values for the chosen response's generative fields
    followed: list[str]  # guideline ids the chosen response carries out


class SinglePassReply(_Schema):
    """purpose "single_pass" in fluid/composited mode: matching and the reply in one call."""

    verdicts: list[GuidelineVerdict]
    reply: str
    followed: list[str]  # guideline ids the reply carries out


class SinglePassCanned(_Schema):
    """purpose "single_pass" in strict mode."""

    verdicts: list[GuidelineVerdict]
    draft: str
    choice: str
    fields: list[FieldValue]
    followed: list[str]


class AppliedItem(_Schema):
    id: str
    rationale: str
    applied: bool


class AppliedAnalysis(_Schema):
    """purpose "analysis": after the reply, which guidelines did it actually carry out?"""

    items: list[AppliedItem]


class ModerationVerdict(_Schema):
    """purpose "moderation"."""

    rationale: str
    flagged: bool
    categories: list[str]


class Preamble(_Schema):
    """purpose "preamble": a short acknowledgement sent while the turn prepares."""

    message: str


SCHEMAS_BY_PURPOSE: dict[str, tuple[type[BaseModel], ...]] = {
    "matching": (MatchingBatch,),
    "reevaluation": (MatchingBatch,),
    "journey": (JourneyStepSelection,),
    "canned_selection": (CannedSelection,),
    "single_pass": (SinglePassReply, SinglePassCanned),
    "analysis": (AppliedAnalysis,),
    "moderation": (ModerationVerdict,),
    "preamble": (Preamble,),
    # "composition" is streamed free text (LLM.stream), no schema.
}
