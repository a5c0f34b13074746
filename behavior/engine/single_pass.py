"""The single-pass strategy: matching and the reply in one structured call (one hop, the physical limit),
chosen when the candidates are few and no tool or journey step is in play. When deterministic resolution
changes what the model assumed (an entailment, override, dependency or disambiguation it did not
respect), the reply is discarded and composed again from the resolved set (a second hop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from behavior.engine.composition import Draft, canned_candidates, known_fields, new_message_id, strict_render
from behavior.engine.index import SnapshotIndex
from behavior.engine.journeys import JourneyTracker
from behavior.engine.matching import Verdict, verdicts_from
from behavior.engine.plan import ReplyPlan
from behavior.engine.prompts.reply import single_pass_prompt
from behavior.engine.resolution import Resolution, resolve
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import SinglePassCanned, SinglePassReply
from behavior.engine.types import CannedResponse, Guideline


@dataclass
class SinglePassOutcome:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    resolution: Resolution = field(default_factory=Resolution)
    draft: Draft | None = None  # None: resolution disagreed, compose again
    fallback_reason: str = ""


def single_pass_choice(
    runtime: TurnRuntime, *, candidates: Sequence[Guideline], tracker: JourneyTracker
) -> tuple[bool, str]:
    index = runtime.index
    assert index is not None
    limit = runtime.config.single_pass_max_candidates
    if len(candidates) > limit:
        return False, f"{len(candidates)} candidates > {limit}"
    if tracker.active:
        return False, "a journey is active"
    if any(g.tools for g in candidates):
        return False, "a candidate guideline can call tools"
    if any(g.key in index.triggers for g in candidates):
        return False, "a candidate can start a journey"
    return True, f"{len(candidates)} candidates <= {limit}, no tool or journey in play"


def relationship_rules(index: SnapshotIndex, keys: set[str]) -> list[str]:
    """The relationships among the candidates, stated for the model (resolution still checks them)."""
    rules = []
    for source, target in index.override_pairs(keys):
        rules.append(
            f"if both [{source}] and [{target}] apply, follow only the one with higher priority, else [{source}]"
        )
    for source, targets in index.entails.items():
        if source in keys:
            for ref in targets:
                if ref.type == "guideline" and ref.ref in keys:
                    rules.append(f"whenever [{source}] applies, [{ref.ref}] applies too")
    for source, dependencies in index.depends_all.items():
        if source in keys:
            for ref in dependencies:
                what = f"[{ref.ref}]" if ref.type == "guideline" else f"{ref.type} {ref.ref}"
                rules.append(f"[{source}] applies only if {what} also applies")
    for source, options in index.disambiguates.items():
        if source in keys:
            names = ", ".join(f"[{t}]" for t in options if t in keys)
            rules.append(f"if [{source}] applies and several of {names} apply, ask the customer which one they mean")
    return rules[:20]


async def single_pass_run(
    runtime: TurnRuntime,
    *,
    candidates: Sequence[Guideline],
    scores: Mapping[str, float | None],
    retrieved_canned: Sequence[CannedResponse],
    after_first_hop: Callable[[], Awaitable[bool]],
) -> SinglePassOutcome:
    index = runtime.index
    assert index is not None
    strict = runtime.agent.composition_mode == "strict"
    composited = runtime.agent.composition_mode == "composited"
    keys = {g.key for g in candidates}
    canned: list[CannedResponse] = []
    if strict or composited:
        canned = canned_candidates(
            runtime, guideline_keys=[g.key for g in candidates], state_refs=[], retrieved=retrieved_canned
        )
    values = known_fields(runtime, ReplyPlan())
    schema: type[SinglePassCanned] | type[SinglePassReply] = SinglePassCanned if strict else SinglePassReply

    async def call() -> SinglePassCanned | SinglePassReply:
        prompt = single_pass_prompt(
            runtime,
            candidates,
            rules=relationship_rules(index, keys),
            canned=canned,
            strict=strict,
            known_fields=values,
        )
        return await runtime.generate(prompt, schema, hop=runtime.next_hop())

    value = await call()
    if await after_first_hop():
        value = await call()

    outcome = SinglePassOutcome()
    outcome.verdicts = verdicts_from(runtime, value.verdicts, candidates, iteration=1, batch=1, scores=scores)
    runtime.trace.batches = 1

    matched = [k for k, v in outcome.verdicts.items() if v.applies]
    outcome.resolution = resolve(index, matched=matched, journeys={})
    runtime.trace.decisions = list(outcome.resolution.decisions)
    assumed = {k for k in matched if not index.matchables[k].is_observation}
    resolved = {k for k in outcome.resolution.active if not index.matchables[k].is_observation}
    if outcome.resolution.clarification is not None:
        outcome.fallback_reason = "a disambiguation needs a clarifying question"
    elif outcome.resolution.enter_journeys:
        outcome.fallback_reason = "a journey was entered"
    elif assumed != resolved:
        outcome.fallback_reason = "resolution changed the active guidelines"
    if outcome.fallback_reason:
        return outcome

    message_id = new_message_id()
    followed = [k for k in value.followed if k in resolved]
    if isinstance(value, SinglePassCanned):
        runtime.trace.composition.update(mode="strict", canned_candidates=[c.key for c in canned])
        text, data = strict_render(
            runtime, canned, choice=value.choice, fields=value.fields, values=values, draft=value.draft
        )
        runtime.trace.composition["method"] = (
            "single_pass" if data.get("canned_response") and not data.get("no_match") else "no_match"
        )
    else:
        text = value.reply.strip()
        data = {"mode": runtime.agent.composition_mode}
        runtime.trace.composition.update(
            mode=runtime.agent.composition_mode, method="single_pass", canned_candidates=[c.key for c in canned]
        )
        if not text:
            outcome.fallback_reason = "the single-pass reply was empty"
            return outcome
    outcome.draft = Draft(message_id=message_id, text=text, data=data, followed=followed)
    return outcome
