"""Prompts of the matching hop: guideline batches (purpose "matching"/"reevaluation") and journey step
selection (purpose "journey")."""

from __future__ import annotations

from collections.abc import Sequence

from behavior.engine.prompts.common import (
    DATA_NOT_INSTRUCTIONS,
    glossary_section,
    guideline_line,
    history_section,
    tool_results_section,
    tools_section,
    variables_section,
)
from behavior.engine.prompts.sections import (
    CURRENT_STATE_MARKER,
    IDS_MARKER,
    JOURNEY_MARKER,
    STATES_MARKER,
    Prompt,
    PromptSection,
    marker_line,
    one_line,
)
from behavior.engine.runtime import TurnRuntime
from behavior.engine.types import Guideline, Journey

MATCHING_RULES = """You evaluate guidelines for a customer-service conversation. For each listed id, decide whether its condition holds now, judging the latest customer message in the context of the conversation.
For each id: restate the relevant facts in one short sentence, give a brief rationale, then the verdict.
- "applied before #N": it was already carried out at message #N; it applies only if its condition arose AGAIN after #N (a new request, not the same one still being discussed).
- "continuous": it applies whenever its condition still holds.
- OBSERVE items have no action: judge only whether the fact is true.
- An item listing tools: when it applies, propose the calls it needs (tool_calls), with argument values taken only from the conversation or the variables. Otherwise tool_calls is []."""

MATCHING_INSTRUCTIONS = (
    f"{MATCHING_RULES}\n{DATA_NOT_INSTRUCTIONS}\nAnswer with one verdict per id, in the order given."
)

MATCHING_EXAMPLE = """Example. Item: - [refund-policy] WHEN the customer asks for a refund THEN explain the refund policy
History: #1 customer: can I get my money back for booking ABC123?
Verdict: {"id": "refund-policy", "facts": "The customer asks for money back for booking ABC123.", "rationale": "Money back is a refund request.", "applies": true, "tool_calls": []}"""

JOURNEY_INSTRUCTIONS = f"""You track the customer's progress through a procedure (a journey of states). Choose the move for this turn:
- advance: the current step is done and a next state's transition condition holds; target_state = that next state.
- skip: the customer already supplied what intermediate steps ask for; target_state = a later state.
- stay: the current step is not done yet; target_state = the current state.
- backtrack: the customer wants to redo or change an earlier step; target_state = that earlier state.
- exit: the customer abandoned the procedure or it no longer applies; target_state = "".
Restate the relevant facts, give a rationale, then the move. When target_state runs a tool or offers tools, propose the calls (tool_calls) with arguments only from the conversation; otherwise [].
{DATA_NOT_INSTRUCTIONS}"""


def context_sections(runtime: TurnRuntime, *, with_glossary: bool = True) -> list[PromptSection]:
    assert runtime.history is not None
    descriptions = {v.name: v.description for v in runtime.snapshot.variables}
    sections = []
    if with_glossary:
        sections.append(glossary_section(runtime.terms))
    sections.append(
        variables_section(
            runtime.variables,
            customer_name=runtime.interaction.customer.name,
            descriptions=descriptions,
            handback_note=runtime.interaction.handback_note,
        )
    )
    sections.append(history_section(runtime.history))
    return sections


def matching_prompt(
    runtime: TurnRuntime,
    guidelines: Sequence[Guideline],
    *,
    purpose: str = "matching",
    tool_results: Sequence[str] = (),
) -> Prompt:
    state = runtime.state
    # Matching judges conditions; the action only matters to recognise "applied before", so it is shortened.
    lines = [guideline_line(g, applied_offset=state.applied_offset(g.key), action_chars=160) for g in guidelines]
    tool_names = list(dict.fromkeys(t for g in guidelines for t in g.tools))
    tools = [runtime.snapshot.tool_by_name[t] for t in tool_names if t in runtime.snapshot.tool_by_name]
    sections = [
        PromptSection("instructions", MATCHING_INSTRUCTIONS, role="system"),
        PromptSection("examples", MATCHING_EXAMPLE, role="system"),
        *context_sections(runtime),
        tool_results_section(tool_results),
        PromptSection("guidelines", "\n".join(lines)),
        tools_section(tools),
        PromptSection("instructions", marker_line(IDS_MARKER, [g.key for g in guidelines])),
    ]
    return Prompt(purpose=purpose, sections=tuple(sections))


def journey_prompt(
    runtime: TurnRuntime, journey: Journey, *, current: str, path: Sequence[str], tool_results: Sequence[str] = ()
) -> Prompt:
    states = []
    for state in journey.states:
        if state.kind == "tool":
            what = f"(tool state: runs {state.tool})"
        elif state.kind == "fork":
            what = "(fork: choose the branch whose condition holds)"
        elif state.kind == "end":
            what = "(end)" + (f" {one_line(state.action, 300)}" if state.action else "")
        else:
            what = f"(chat) {one_line(state.action, 300)}"
        extra = f" | tools: {', '.join(state.tools)}" if state.tools else ""
        states.append(f"- [{state.key}] {what}{extra}")
    transitions = [
        f"- {t.source} -> {t.target}" + (f" when {one_line(t.condition, 300)}" if t.condition else "")
        for t in journey.transitions
    ]
    description = f"\n{one_line(journey.description, 600)}" if journey.description else ""
    text = (
        f"{one_line(journey.title, 200)}{description}\nStates:\n"
        + "\n".join(states)
        + "\nTransitions:\n"
        + "\n".join(transitions)
        + f"\nVisited so far: {' -> '.join(path) if path else current}"
    )
    tool_names = list(
        dict.fromkeys([s.tool for s in journey.states if s.tool] + [t for s in journey.states for t in s.tools])
    )
    tools = [runtime.snapshot.tool_by_name[t] for t in tool_names if t in runtime.snapshot.tool_by_name]
    markers = "\n".join(
        [
            marker_line(JOURNEY_MARKER, [journey.key]),
            marker_line(CURRENT_STATE_MARKER, [current]),
            marker_line(STATES_MARKER, [s.key for s in journey.states]),
        ]
    )
    sections = [
        PromptSection("instructions", JOURNEY_INSTRUCTIONS, role="system"),
        *context_sections(runtime, with_glossary=False),
        tool_results_section(tool_results),
        PromptSection("journey", text),
        tools_section(tools),
        PromptSection("instructions", markers),
    ]
    return Prompt(purpose="journey", sections=tuple(sections))
