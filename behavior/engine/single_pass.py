"""The single-pass strategy: matching and the reply in one structured call (one hop, the physical limit),
chosen when the candidates are few and no tool or journey step is in play. When deterministic resolution
changes what the model assumed (an entailment, override, dependency or disambiguation it did not
respect), the reply is discarded and composed again from the resolved set (a second hop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from behavior.engine.composition import Draft, canned_candidates, known_fields, new_message_id, strict_render
from behavior.engine.index import SnapshotIndex
from behavior.engine.journeys import JourneyTracker
from behavior.engine.json_stream import StreamedStringField
from behavior.engine.matching import Verdict, verdicts_from
from behavior.engine.plan import ReplyPlan
from behavior.engine.prompts.reply import single_pass_prompt
from behavior.engine.prompts.sections import listed_id
from behavior.engine.resolution import Resolution, resolve
from behavior.engine.runtime import MAX_REPLY_CHARS, TurnRuntime
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

    async def call(streamer: ReplyStreamer | None) -> SinglePassCanned | SinglePassReply:
        prompt = single_pass_prompt(
            runtime,
            candidates,
            rules=relationship_rules(index, keys),
            canned=canned,
            strict=strict,
            known_fields=values,
        )
        on_text = streamer.on_text if streamer is not None else None
        return await runtime.generate(prompt, schema, hop=runtime.next_hop(), on_text=on_text)

    censored_while_streaming = False

    async def input_is_clean() -> bool:
        nonlocal censored_while_streaming
        censored_while_streaming = await after_first_hop()
        return not censored_while_streaming

    # Strict mode renders an approved response after the call: nothing to stream.
    streamer = None if strict else ReplyStreamer(runtime, candidates, input_is_clean=input_is_clean)
    value = await call(streamer)
    if censored_while_streaming or await after_first_hop():
        streamer = None
        value = await call(None)

    outcome = SinglePassOutcome()
    outcome.verdicts = verdicts_from(runtime, value.verdicts, candidates, iteration=1, batch=1, scores=scores)
    runtime.trace.batches = 1

    matched = [k for k, v in outcome.verdicts.items() if v.applies]
    outcome.resolution, outcome.fallback_reason = resolution_check(index, matched)
    runtime.trace.decisions = list(outcome.resolution.decisions)
    if outcome.fallback_reason:
        return outcome

    streamed = streamer is not None and streamer.streaming
    message_id = streamer.message_id if streamer is not None and streamed else new_message_id()
    resolved = {k for k in outcome.resolution.active if not index.matchables[k].is_observation}
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
    outcome.draft = Draft(message_id=message_id, text=text, data=data, followed=followed, streamed=streamed)
    if streamed:
        runtime.trace.composition["streamed"] = True
    return outcome


def resolution_check(index: SnapshotIndex, matched: Sequence[str]) -> tuple[Resolution, str]:
    """Resolve what the model matched; the reason the single-pass reply cannot be used ("" when it can)."""
    resolution = resolve(index, matched=matched, journeys={})
    assumed = {k for k in matched if not index.matchables[k].is_observation}
    resolved = {k for k in resolution.active if not index.matchables[k].is_observation}
    if resolution.clarification is not None:
        return resolution, "a disambiguation needs a clarifying question"
    if resolution.enter_journeys:
        return resolution, "a journey was entered"
    if assumed != resolved:
        return resolution, "resolution changed the active guidelines"
    return resolution, ""


class ReplyStreamer:
    """Streams the reply of a single-pass answer to the customer while the model writes it.

    The schema puts the verdicts before the reply, so when the reply starts the verdicts are known: the
    reply is streamed only if resolution keeps what the model assumed (otherwise it will be discarded and
    composed again) and the moderation check has passed. If they cannot be read, nothing is streamed and
    the reply is sent whole at the end, as before."""

    def __init__(
        self,
        runtime: TurnRuntime,
        candidates: Sequence[Guideline],
        *,
        input_is_clean: Callable[[], Awaitable[bool]],
    ) -> None:
        self.runtime = runtime
        self.keys = {g.key for g in candidates}
        self.input_is_clean = input_is_clean
        self.message_id = new_message_id()
        self.field = StreamedStringField("reply")
        self.decided = False
        self.streaming = False
        self.sent = 0

    async def on_text(self, piece: str) -> None:
        self.field.feed(piece)
        if not self.decided and self.field.value_started:
            self.decided = True
            self.streaming = await self._reply_will_be_used()
        if not self.streaming:
            return
        text = self.field.text().lstrip()[:MAX_REPLY_CHARS]
        if len(text) > self.sent:
            new, self.sent = text[self.sent :], len(text)
            await self.runtime.ports.emitter.message_chunk(message_id=self.message_id, text=new)

    async def _reply_will_be_used(self) -> bool:
        before = self.field.object_before()
        if before is None:
            return False
        try:
            answers = SinglePassReply.model_validate({"reply": "", "followed": [], **before}).verdicts
        except ValidationError:
            return False
        index = self.runtime.index
        assert index is not None
        matched = list(dict.fromkeys(listed_id(a.id) for a in answers if a.applies))
        _resolution, reason = resolution_check(index, [k for k in matched if k in self.keys])
        return not reason and await self.input_is_clean()
