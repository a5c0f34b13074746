"""Stage 7, composition: fluid and composited replies streamed through the emitter; strict mode only ever
produces a rendered canned response (chosen by a structured call) or the agent's no-match reply."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from behavior.engine.plan import ReplyPlan
from behavior.engine.prompts.reply import canned_selection_prompt, composition_prompt
from behavior.engine.prompts.sections import listed_id
from behavior.engine.runtime import TurnRuntime
from behavior.engine.schemas import CannedSelection, FieldValue
from behavior.engine.templates import template_fields, template_render
from behavior.engine.types import CannedResponse

MAX_CANNED_CANDIDATES = 12


@dataclass
class Draft:
    """A reply ready to be sent (chunks may already have been streamed)."""

    message_id: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    followed: list[str] | None = None  # guideline keys the reply carries out, when the model said so
    streamed: bool = False  # chunks already reached the emitter


def new_message_id() -> str:
    return uuid.uuid4().hex


def known_fields(runtime: TurnRuntime, plan: ReplyPlan) -> dict[str, Any]:
    """Field values the engine fills itself: built-ins, context variables, tool-provided fields."""
    customer = runtime.interaction.customer
    values: dict[str, Any] = {"agent.name": runtime.agent.name}
    if customer.name:
        values["customer.name"] = customer.name
    if customer.id:
        values["customer.id"] = customer.id
    for name, value in runtime.variables.items():
        values.setdefault(name, value)
    values.update({k: v for k, v in plan.canned_fields.items() if v is not None})
    return values


def canned_candidates(
    runtime: TurnRuntime,
    *,
    guideline_keys: Sequence[str],
    state_refs: Sequence[str],
    retrieved: Sequence[CannedResponse],
) -> list[CannedResponse]:
    """Responses attached to the active guidelines and journey states first, then the retrieved ones."""
    index = runtime.index
    assert index is not None
    by_key = runtime.snapshot.canned_by_key
    keys: list[str] = []
    for guideline_key in guideline_keys:
        keys.extend(index.canned_for_guideline.get(guideline_key, []))
    for ref in state_refs:
        keys.extend(index.canned_for_state.get(ref, []))
    keys.extend(c.key for c in retrieved)
    return [by_key[k] for k in dict.fromkeys(keys) if k in by_key][:MAX_CANNED_CANDIDATES]


async def compose_stream(runtime: TurnRuntime, plan: ReplyPlan) -> Draft:
    """Fluid or composited: one streamed call; chunks reach the emitter as they arrive."""
    composited = runtime.agent.composition_mode == "composited"
    message_id = new_message_id()
    hop = runtime.next_hop()

    async def on_chunk(text: str) -> None:
        await runtime.ports.emitter.message_chunk(message_id=message_id, text=text)

    text = (
        await runtime.stream(composition_prompt(runtime, plan, composited=composited), hop=hop, on_chunk=on_chunk)
    ).strip()
    runtime.trace.composition.update(
        mode=runtime.agent.composition_mode,
        method="stream",
        canned_candidates=[c.key for c in plan.canned_candidates] if composited else [],
    )
    if not text:
        text = runtime.config.error_reply
        runtime.trace.error("composition", "the model returned an empty reply")
    return Draft(message_id=message_id, text=text, data={"mode": runtime.agent.composition_mode}, streamed=True)


async def compose_strict(runtime: TurnRuntime, plan: ReplyPlan) -> Draft:
    """Strict: a structured choice among the candidates, rendered; otherwise the no-match reply."""
    message_id = new_message_id()
    values = known_fields(runtime, plan)
    runtime.trace.composition.update(mode="strict", canned_candidates=[c.key for c in plan.canned_candidates])
    if not plan.canned_candidates:
        runtime.trace.composition.update(method="no_match", canned_chosen=None, reason="no canned response candidates")
        return Draft(
            message_id=message_id,
            text=runtime.agent.no_match_reply,
            data={"mode": "strict", "no_match": True},
            followed=[],
        )
    hop = runtime.next_hop()
    selection = await runtime.generate(
        canned_selection_prompt(runtime, plan, known_fields=values), CannedSelection, hop=hop
    )
    text, data = strict_render(
        runtime,
        plan.canned_candidates,
        choice=selection.choice,
        fields=selection.fields,
        values=values,
        draft=selection.draft,
    )
    return Draft(
        message_id=message_id, text=text, data=data, followed=[k for k in selection.followed if isinstance(k, str)]
    )


def strict_render(
    runtime: TurnRuntime,
    candidates: Sequence[CannedResponse],
    *,
    choice: str,
    fields: Sequence[FieldValue],
    values: Mapping[str, Any],
    draft: str,
) -> tuple[str, dict[str, Any]]:
    """Render the chosen canned response, or fall back to the no-match reply. Never returns model text
    except the values of the response's own generative fields."""
    by_key = {c.key: c for c in candidates}
    chosen = by_key.get(listed_id(choice))
    trace = runtime.trace.composition
    trace.update(method="canned", draft=draft[:2000], canned_chosen=chosen.key if chosen else None)
    if chosen is None:
        trace["reason"] = (
            "no canned response fits" if choice.strip().lower() == "none" else f"unknown choice {choice[:80]!r}"
        )
        trace["method"] = "no_match"
        return runtime.agent.no_match_reply, {"mode": "strict", "no_match": True}
    declared = {f.name: f for f in chosen.fields}
    generative = {
        f.name: f.value
        for f in fields
        if f.name in template_fields(chosen.template)
        and f.name not in values
        and (f.name not in declared or declared[f.name].kind == "generative")
    }
    text, missing = template_render(chosen.template, {**generative, **values})
    trace["fields"] = {name: str(value)[:200] for name, value in generative.items()}
    if text is None:
        trace.update(method="no_match", reason=f"missing fields: {', '.join(missing)}")
        return runtime.agent.no_match_reply, {
            "mode": "strict",
            "no_match": True,
            "canned_response": chosen.key,
            "missing_fields": missing,
        }
    return text, {"mode": "strict", "canned_response": chosen.key}
