"""Stage 8, after the reply: which guidelines did the reply actually carry out (applied-once tracking).
Runs after the final message is emitted, so it never delays the customer."""

from __future__ import annotations

from behavior.engine.plan import ReplyPlan
from behavior.engine.ports import LLMError
from behavior.engine.prompts.reply import analysis_prompt
from behavior.engine.prompts.sections import listed_id
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import AppliedAnalysis
from behavior.engine.types import AppliedGuideline

MAX_APPLIED_KEPT = 200


async def applied_analysis(
    runtime: TurnRuntime, plan: ReplyPlan, *, reply: str, followed: list[str] | None
) -> list[str]:
    """The keys of tracked guidelines the reply applied. Method, in order: nothing to track → "skipped";
    the model listed what it followed in the same call → "followed"; config "assume" → all; else one
    structured call ("llm"), falling back to "assume" if that call fails."""
    tracked = [g for g in plan.actionable if g.track and not g.transient]
    trace = runtime.trace.analysis
    if not tracked:
        trace.update(method="skipped", applied=[], not_applied=[])
        return []
    keys = [g.key for g in tracked]
    if followed is not None:
        applied = [k for k in keys if k in set(followed)]
        trace["method"] = "followed"
    elif runtime.config.applied_analysis == "assume":
        applied = keys
        trace["method"] = "assume"
    else:
        try:
            result = await runtime.generate(
                analysis_prompt(runtime, tracked, reply=reply), AppliedAnalysis, hop=None, critical=False
            )
            said = {listed_id(item.id): item.applied for item in result.items}
            applied = [k for k in keys if said.get(k, False)]
            trace["method"] = "llm"
        except LLMError as exc:
            runtime.trace.error("analysis", exc)
            applied = keys
            trace["method"] = "assume"
            trace["error"] = str(exc)[:500]
    trace.update(applied=applied, not_applied=[k for k in keys if k not in applied])
    return applied


def applied_update(
    previous: tuple[AppliedGuideline, ...], *, applied: list[str], offset: int, existing: set[str]
) -> tuple[AppliedGuideline, ...]:
    """Re-applied guidelines move to the new offset; guidelines no longer in the snapshot (or no longer
    tracked) are forgotten."""
    renewed = set(applied)
    kept = [a for a in previous if a.key not in renewed and a.key in existing]
    kept.extend(AppliedGuideline(key=key, offset=offset) for key in applied)
    return tuple(kept[-MAX_APPLIED_KEPT:])
